/* evtest.h: helpers for tests that drive a libev loop: run it until a
 * condition holds (with a deadline, never a fixed sleep), and run blocking
 * work on a thread whose progress wakes the loop. */
#ifndef CELL_EVTEST_H
#define CELL_EVTEST_H

#include <ev.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

/* Runs loop until cond(arg) holds or timeout_s seconds pass; returns
 * cond(arg) at the end. */
bool tl_run_until(struct ev_loop *loop, bool (*cond)(void *arg), void *arg,
                  double timeout_s);

/* A thread running fn(arg) beside the loop. Its end wakes the loop, and fn
 * may call tl_thread_poke to wake it earlier (after setting something the
 * loop's condition reads). */
struct tl_thread {
	pthread_t tid;
	struct ev_loop *loop;
	ev_async wake;
	atomic_bool done;
	void (*fn)(void *arg);
	void *arg;
};

/* Starts the thread; call from the loop's thread. */
void tl_thread_start(struct tl_thread *t, struct ev_loop *loop,
                     void (*fn)(void *arg), void *arg);
void tl_thread_poke(struct tl_thread *t);
/* A condition for tl_run_until: the thread has finished (arg: the
 * struct tl_thread). */
bool tl_thread_done(void *t);
/* Joins the thread and stops its wake-up watcher. */
void tl_thread_join(struct tl_thread *t);

#endif
