/* uvbridge.c: drives a private libuv loop (raft's I/O) from the process's
 * libev loop on one thread, as measured and verified (RAFT.md §4). */
#include <stdio.h>
#include <string.h>

#include "cr_node.h"

/* Upper bound on back-to-back uv_run passes per libev iteration, so a busy
 * libuv cannot starve the other libev watchers. */
#define FLUSH_ROUNDS 16

static void run_nowait(struct cr_bridge *b)
{
	uv_run(&b->uv, UV_RUN_NOWAIT);
}

static void on_io(EV_P_ ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	run_nowait(w->data);
}

static void on_timer(EV_P_ ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	run_nowait(w->data);
}

static void on_kick(EV_P_ ev_idle *w, int revents)
{
	(void)revents;
	ev_idle_stop(loop, w); /* its job (no blocking poll) is done */
}

static void finish(struct cr_bridge *b)
{
	cr_bridge_stop(b);
	b->drained(b->arg); /* last: may free b */
}

/* Caveats from RAFT.md §4: uv_update_time() before uv_backend_timeout() (else
 * libuv timers never fire while libev wakes often); a 0 timeout also means
 * "fds wait to be added to epoll" (only uv_run does that) or "dead loop",
 * hence the loop with uv_loop_alive. */
static void on_prepare(EV_P_ ev_prepare *w, int revents)
{
	struct cr_bridge *b = w->data;
	int timeout = -1;
	(void)revents;
	for (int i = 0; i < FLUSH_ROUNDS; i++) {
		if (b->pre)
			b->pre(b->arg);
		if (!uv_loop_alive(&b->uv)) {
			timeout = -1;
			if (b->closing) {
				finish(b);
				return;
			}
			break;
		}
		uv_update_time(&b->uv);
		timeout = uv_backend_timeout(&b->uv);
		if (timeout != 0)
			break;
		run_nowait(b);
	}
	ev_timer_stop(loop, &b->timer);
	if (timeout >= 0) {
		ev_now_update(loop);
		ev_timer_set(&b->timer, timeout / 1000.0, 0.);
		ev_timer_start(loop, &b->timer);
	}
}

int cr_bridge_init(struct cr_bridge *b, struct ev_loop *ev, char *errbuf,
                   size_t errlen)
{
	memset(b, 0, sizeof(*b));
	b->ev = ev;
	int rv = uv_loop_init(&b->uv);
	if (rv != 0) {
		snprintf(errbuf, errlen, "libuv loop: %s", uv_strerror(rv));
		return CR_EIO;
	}
	ev_io_init(&b->io, on_io, uv_backend_fd(&b->uv), EV_READ);
	ev_timer_init(&b->timer, on_timer, 0., 0.);
	ev_prepare_init(&b->prepare, on_prepare);
	ev_idle_init(&b->kick, on_kick);
	b->io.data = b->timer.data = b->prepare.data = b->kick.data = b;
	return 0;
}

void cr_bridge_start(struct cr_bridge *b)
{
	ev_io_start(b->ev, &b->io);
	ev_prepare_start(b->ev, &b->prepare);
	b->started = true;
	cr_bridge_kick(b);
}

void cr_bridge_kick(struct cr_bridge *b)
{
	if (b->started && !ev_is_active(&b->kick))
		ev_idle_start(b->ev, &b->kick);
}

void cr_bridge_stop(struct cr_bridge *b)
{
	ev_io_stop(b->ev, &b->io);
	ev_timer_stop(b->ev, &b->timer);
	ev_prepare_stop(b->ev, &b->prepare);
	ev_idle_stop(b->ev, &b->kick);
	b->started = false;
}

static void close_stray(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

void cr_bridge_close(struct cr_bridge *b)
{
	/* Normally the loop is already empty and this closes it at once. Else
	 * run it (close callbacks, threadpool completions); as a last resort
	 * close what is still open, so the loop never leaks its epoll fd. */
	for (int i = 0; i < 3; i++) {
		if (uv_loop_close(&b->uv) != UV_EBUSY)
			return;
		if (i > 0)
			uv_walk(&b->uv, close_stray, NULL);
		uv_run(&b->uv, UV_RUN_DEFAULT);
	}
}
