/* transport.c: raft_uv_tcp with TCP_NODELAY on every connection (raft never
 * sets it; Nagle with delayed ACKs adds up to 40 ms per round, RAFT.md §7). */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cr_node.h"

#define CONTAINER(ptr, type, field)                                            \
	((type *)(void *)((char *)(ptr)-offsetof(type, field)))

/* A connect request of ours wrapping raft's, so we see the stream first. */
struct connect_req {
	struct raft_uv_connect inner;
	struct raft_uv_connect *outer;
};

static void nodelay(struct uv_stream_s *stream)
{
	if (stream && stream->type == UV_TCP)
		uv_tcp_nodelay((uv_tcp_t *)stream, 1);
}

static int t_init(struct raft_uv_transport *iface, raft_id id,
                  const char *address)
{
	struct cr_transport *t = CONTAINER(iface, struct cr_transport, iface);
	int rv = t->tcp.init(&t->tcp, id, address);
	if (rv != 0)
		snprintf(iface->errmsg, sizeof(iface->errmsg), "%s",
		         t->tcp.errmsg);
	return rv;
}

static void on_accept(struct raft_uv_transport *tcp, raft_id id,
                      const char *address, struct uv_stream_s *stream)
{
	struct cr_transport *t = CONTAINER(tcp, struct cr_transport, tcp);
	nodelay(stream);
	t->accept_cb(&t->iface, id, address, stream);
}

static int t_listen(struct raft_uv_transport *iface, raft_uv_accept_cb cb)
{
	struct cr_transport *t = CONTAINER(iface, struct cr_transport, iface);
	t->accept_cb = cb;
	int rv = t->tcp.listen(&t->tcp, on_accept);
	if (rv != 0)
		snprintf(iface->errmsg, sizeof(iface->errmsg), "%s",
		         t->tcp.errmsg);
	return rv;
}

static void on_connect(struct raft_uv_connect *inner,
                       struct uv_stream_s *stream, int status)
{
	struct connect_req *req = inner->data;
	struct raft_uv_connect *outer = req->outer;
	free(req);
	if (status == 0)
		nodelay(stream);
	outer->cb(outer, stream, status);
}

static int t_connect(struct raft_uv_transport *iface,
                     struct raft_uv_connect *outer, raft_id id,
                     const char *address, raft_uv_connect_cb cb)
{
	struct cr_transport *t = CONTAINER(iface, struct cr_transport, iface);
	struct connect_req *req = cu_xmalloc(sizeof(*req));
	req->inner.data = req;
	req->outer = outer;
	outer->cb = cb;
	int rv = t->tcp.connect(&t->tcp, &req->inner, id, address, on_connect);
	if (rv != 0) {
		free(req); /* its callback never runs */
		snprintf(iface->errmsg, sizeof(iface->errmsg), "%s",
		         t->tcp.errmsg);
	}
	return rv;
}

static void on_close(struct raft_uv_transport *tcp)
{
	struct cr_transport *t = CONTAINER(tcp, struct cr_transport, tcp);
	if (t->close_cb)
		t->close_cb(&t->iface);
}

static void t_close(struct raft_uv_transport *iface,
                    raft_uv_transport_close_cb cb)
{
	struct cr_transport *t = CONTAINER(iface, struct cr_transport, iface);
	t->close_cb = cb;
	t->tcp.close(&t->tcp, on_close);
}

int cr_transport_init(struct cr_transport *t, uv_loop_t *loop)
{
	memset(t, 0, sizeof(*t));
	int rv = raft_uv_tcp_init(&t->tcp, loop);
	if (rv != 0)
		return rv;
	t->iface.init = t_init;
	t->iface.listen = t_listen;
	t->iface.connect = t_connect;
	t->iface.close = t_close;
	return 0;
}

void cr_transport_close(struct cr_transport *t)
{
	raft_uv_tcp_close(&t->tcp);
}
