/* evtest.c: running a libev loop until a condition, and threads that wake
 * it (see evtest.h). */
#include "evtest.h"

#include <stdio.h>
#include <stdlib.h>

static void wake_up(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
}

/* The condition, looked at once every other prepare watcher has run: one
 * of them (the fake store's flush) may make it true and leave nothing
 * else to wake the loop, which would then block until the deadline. */
struct until {
	ev_prepare check;
	bool (*cond)(void *arg);
	void *arg;
};

static void check_before_blocking(struct ev_loop *loop, ev_prepare *w,
                                  int revents)
{
	struct until *u = w->data;
	(void)revents;
	if (u->cond(u->arg))
		ev_break(loop, EVBREAK_ONE);
}

bool tl_run_until(struct ev_loop *loop, bool (*cond)(void *arg), void *arg,
                  double timeout_s)
{
	/* the timer only makes sure ev_run returns by the deadline */
	ev_timer deadline;
	struct until u = {.cond = cond, .arg = arg};
	ev_timer_init(&deadline, wake_up, timeout_s, 0.0);
	ev_prepare_init(&u.check, check_before_blocking);
	ev_set_priority(&u.check, EV_MINPRI);
	u.check.data = &u;
	ev_now_update(loop);
	double end = ev_now(loop) + timeout_s;
	ev_timer_start(loop, &deadline);
	ev_prepare_start(loop, &u.check);
	while (!cond(arg)) {
		ev_now_update(loop);
		if (ev_now(loop) >= end)
			break;
		ev_run(loop, EVRUN_ONCE);
	}
	ev_prepare_stop(loop, &u.check);
	ev_timer_stop(loop, &deadline);
	return cond(arg);
}

static void on_wake(struct ev_loop *loop, ev_async *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
}

static void *thread_main(void *arg)
{
	struct tl_thread *t = arg;
	t->fn(t->arg);
	atomic_store(&t->done, true);
	ev_async_send(t->loop, &t->wake);
	return NULL;
}

void tl_thread_start(struct tl_thread *t, struct ev_loop *loop,
                     void (*fn)(void *arg), void *arg)
{
	t->loop = loop;
	t->fn = fn;
	t->arg = arg;
	atomic_init(&t->done, false);
	ev_async_init(&t->wake, on_wake);
	ev_async_start(loop, &t->wake);
	if (pthread_create(&t->tid, NULL, thread_main, t) != 0) {
		fprintf(stderr, "evtest: pthread_create failed\n");
		abort();
	}
}

void tl_thread_poke(struct tl_thread *t)
{
	ev_async_send(t->loop, &t->wake);
}

bool tl_thread_done(void *t)
{
	return atomic_load(&((struct tl_thread *)t)->done);
}

void tl_thread_join(struct tl_thread *t)
{
	pthread_join(t->tid, NULL);
	ev_async_stop(t->loop, &t->wake);
}
