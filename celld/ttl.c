/* ttl.c: the heartbeat table behind machine liveness and scheduler leases
 * (DESIGN §3): each name's last sign of life, in the leader's memory, the
 * grace a new leader gives everyone (it knows nobody's last heartbeat), and
 * the timer that sweeps for the silent every quarter TTL. */
#include "celld.h"

static void on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct ttl_table *t = w->data;
	(void)loop;
	(void)revents;
	t->sweep(t->arg);
}

void ttl_init(struct ttl_table *t, struct ev_loop *loop, uint64_t ttl_ms,
              void (*sweep)(void *arg), void *arg)
{
	t->loop = loop;
	t->ttl_ms = ttl_ms;
	t->last = json_object();
	t->grace_from = ev_now(loop);
	t->sweep = sweep;
	t->arg = arg;
	if (!ttl_ms)
		return;
	double every = (double)ttl_ms / 4000.0;
	ev_timer_init(&t->timer, on_timer, every, every);
	t->timer.data = t;
	ev_timer_start(loop, &t->timer);
}

void ttl_destroy(struct ttl_table *t)
{
	if (t->ttl_ms)
		ev_timer_stop(t->loop, &t->timer);
	json_decref(t->last);
	t->last = NULL;
}

void ttl_trusted(struct ttl_table *t)
{
	json_object_clear(t->last);
	t->grace_from = ev_now(t->loop);
}

void ttl_seen(struct ttl_table *t, const char *name)
{
	json_object_set_new(t->last, name, json_real(ev_now(t->loop)));
}

void ttl_forget(struct ttl_table *t, const char *name)
{
	json_object_del(t->last, name);
}

double ttl_silent(const struct ttl_table *t, const char *name)
{
	json_t *seen = json_object_get(t->last, name);
	return ev_now(t->loop) - (seen ? json_real_value(seen) : t->grace_from);
}

bool ttl_expired(const struct ttl_table *t, const char *name)
{
	return t->ttl_ms && ttl_silent(t, name) > (double)t->ttl_ms / 1000.0;
}
