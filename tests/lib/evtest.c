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

bool tl_run_until(struct ev_loop *loop, bool (*cond)(void *arg), void *arg,
                  double timeout_s)
{
	/* the timer only makes sure ev_run returns by the deadline */
	ev_timer deadline;
	ev_timer_init(&deadline, wake_up, timeout_s, 0.0);
	ev_now_update(loop);
	double end = ev_now(loop) + timeout_s;
	ev_timer_start(loop, &deadline);
	while (!cond(arg)) {
		ev_now_update(loop);
		if (ev_now(loop) >= end)
			break;
		ev_run(loop, EVRUN_ONCE);
	}
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
