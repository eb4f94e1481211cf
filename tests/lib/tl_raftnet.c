/* tl_raftnet.c: several Raft members of one test on one loop (see
 * tl_raftnet.h). */
#include "tl_raftnet.h"

#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>

#include "cell.h" /* tl_free_port */
#include "cellraft.h"
#include "tl_tmpdir.h"

/* ---- the members: where they are, what they are ---------------------------
 * A member's pointer is read and written as what it is (a cr_node * or a
 * cst_store *), at the place the kind says. */

static void *pointer_at(struct tl_raftnet *net, unsigned i)
{
	return (char *)net + net->kind->first + (size_t)i * net->kind->stride;
}

static bool nodes(const struct tl_raftnet *net)
{
	return net->kind->what == TL_RAFTNET_NODES;
}

static bool is_open(struct tl_raftnet *net, unsigned i)
{
	void *p = pointer_at(net, i);
	return nodes(net) ? *(cr_node **)p != NULL : *(cst_store **)p != NULL;
}

static bool writes(struct tl_raftnet *net, unsigned i)
{
	void *p = pointer_at(net, i);
	return nodes(net) ? cr_node_trusted(*(cr_node **)p)
	                  : cst_writable(*(cst_store **)p);
}

static void node_closed(void *arg)
{
	*(cr_node **)arg = NULL;
}

static void store_closed(void *arg)
{
	*(cst_store **)arg = NULL;
}

/* Starts closing member i; its pointer goes NULL once it has closed. */
static void start_close(struct tl_raftnet *net, unsigned i)
{
	void *p = pointer_at(net, i);
	if (nodes(net))
		cr_node_close(*(cr_node **)p, node_closed, p);
	else
		cst_close(*(cst_store **)p, store_closed, p);
}

/* ---- the net ------------------------------------------------------------- */

static void on_tick(EV_P_ ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
}

int tl_raftnet_setup(void **state)
{
	const struct tl_raftnet_kind *kind = *state;
	assert_true(kind->members <= TL_RAFTNET_MAX);
	struct tl_raftnet *net = cu_xcalloc(1, kind->size);
	net->kind = kind;
	net->dir = tl_tmpdir_make(kind->prefix);
	assert_non_null(net->dir);
	net->loop = ev_loop_new(EVFLAG_AUTO);
	ev_timer_init(&net->tick, on_tick, 0.005, 0.005);
	ev_timer_start(net->loop, &net->tick);
	*state = net;
	return 0;
}

bool tl_raftnet_run_until(struct tl_raftnet *net, tl_raftnet_cond cond,
                          void *arg, double secs)
{
	ev_now_update(net->loop);
	double deadline = ev_now(net->loop) + secs;
	while (!cond(net, arg)) {
		if (ev_now(net->loop) > deadline)
			return false;
		ev_run(net->loop, EVRUN_ONCE);
	}
	return true;
}

void tl_raftnet_place(const struct tl_raftnet *net, unsigned i,
                      char address[TL_RAFTNET_ADDR_MAX],
                      char api_address[TL_RAFTNET_API_MAX],
                      char dir[TL_RAFTNET_DIR_MAX])
{
	snprintf(address, TL_RAFTNET_ADDR_MAX, "127.0.0.1:%d", tl_free_port());
	snprintf(api_address, TL_RAFTNET_API_MAX, "http://127.0.0.1:%u",
	         8001 + i);
	snprintf(dir, TL_RAFTNET_DIR_MAX, "%s/member%u", net->dir, i + 1);
}

void tl_raftnet_close(struct tl_raftnet *net, unsigned i)
{
	if (!is_open(net, i) || net->closing[i])
		return;
	net->closing[i] = true;
	start_close(net, i);
}

static bool closed(void *ctx, void *arg)
{
	return !is_open(ctx, *(const unsigned *)arg);
}

void tl_raftnet_close_and_wait(struct tl_raftnet *net, unsigned i)
{
	tl_raftnet_close(net, i);
	if (!tl_raftnet_run_until(net, closed, &i, net->kind->deadline))
		fail_msg("member %u did not close within %.0f s", i + 1,
		         net->kind->deadline);
	net->closing[i] = false;
}

int tl_raftnet_writer(struct tl_raftnet *net)
{
	for (unsigned i = 0; i < net->kind->members; i++)
		if (is_open(net, i) && !net->closing[i] && writes(net, i))
			return (int)i;
	return -1;
}

static bool has_writer(void *ctx, void *arg)
{
	(void)arg;
	return tl_raftnet_writer(ctx) >= 0;
}

unsigned tl_raftnet_wait_writer(struct tl_raftnet *net)
{
	if (!tl_raftnet_run_until(net, has_writer, NULL, net->kind->deadline))
		fail_msg("no %s within %.0f s",
		         nodes(net) ? "trusted leader" : "writer",
		         net->kind->deadline);
	return (unsigned)tl_raftnet_writer(net);
}

static bool all_closed(void *ctx, void *arg)
{
	struct tl_raftnet *net = ctx;
	(void)arg;
	for (unsigned i = 0; i < net->kind->members; i++)
		if (is_open(net, i))
			return false;
	return true;
}

int tl_raftnet_teardown(void **state)
{
	struct tl_raftnet *net = *state;
	for (unsigned i = 0; i < net->kind->members; i++)
		tl_raftnet_close(net, i);
	bool done =
	    tl_raftnet_run_until(net, all_closed, NULL, net->kind->deadline);
	ev_timer_stop(net->loop, &net->tick);
	ev_loop_destroy(net->loop);
	int rm = tl_tmpdir_remove(net->dir);
	free(net->dir);
	free(net);
	return done && rm == 0 ? 0 : -1;
}
