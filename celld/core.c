/* core.c: the core's life (new, serve, tick, stop, free), its clock and the
 * ids of the writer's own transactions. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "core.h"

/* Watch clients learn how far they have seen this often when idle. */
#define PROGRESS_SECONDS 5.0

static double monotonic(void *arg)
{
	(void)arg;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double cd_now(const cd_core *c)
{
	return c->cfg.clock.now(c->cfg.clock.arg);
}

bool cd_every_due(struct cd_every *e, double now, double slack)
{
	if (!e->period || now < e->next - slack)
		return false;
	e->next += e->period;
	if (e->next <= now) /* fell far behind: no burst to catch up */
		e->next = now + e->period;
	return true;
}

const char *cd_own_txn_id(cd_core *c, const char *what, char *buf, size_t len)
{
	struct cst_status st;
	cst_status(c->store, &st);
	snprintf(buf, len, "%s-%llu-%llu-%llu", what, (unsigned long long)st.id,
	         (unsigned long long)c->led_from,
	         (unsigned long long)++c->serial);
	return buf;
}

int cd_core_new(const struct cd_config *cfg, cd_core **out, char *errbuf,
                size_t errlen)
{
	*out = NULL;
	if (!cfg || !cfg->metrics || !cfg->watch_window)
		return cu_errf(errbuf, errlen, CC_EINVAL,
		               "celld core: a metrics registry and a watch "
		               "window of at least one change are required");
	cd_core *c = cu_xcalloc(1, sizeof(*c));
	c->cfg = *cfg;
	c->cfg.token = c->token = cu_xstrdup(cfg->token);
	if (!c->cfg.clock.now)
		c->cfg.clock = (struct cd_clock){monotonic, NULL};
	c->watch = cd_watch_new(cfg->watch_window);
	cd_metrics_register(c);
	cd_duties_open(c);
	*out = c;
	return 0;
}

/* The shortest period of anything a tick runs. */
static double shortest_period(const cd_core *c)
{
	double d = cd_duties_min_period(c);
	return d > 0 && d < PROGRESS_SECONDS ? d : PROGRESS_SECONDS;
}

unsigned cd_core_tick_ms(const cd_core *c)
{
	unsigned ms = (unsigned)(shortest_period(c) * 1000.0);
	return ms ? ms : 1;
}

int cd_core_serve(cd_core *c, cst_store *store, cc_server *server, char *errbuf,
                  size_t errlen)
{
	if (c->store)
		return cu_errf(errbuf, errlen, CC_ESTATE,
		               "celld core: already serving");
	c->store = store;
	c->server = server;
	cd_watch_serve(c->watch, store);
	/* a timer that fires a hair early must not skip a round */
	c->slack = shortest_period(c) / 2;
	double now = cd_now(c);
	c->progress =
	    (struct cd_every){PROGRESS_SECONDS, now + PROGRESS_SECONDS};
	cd_duties_start(c, now);
	return cd_routes_add(c, errbuf, errlen);
}

void cd_core_tick(cd_core *c)
{
	if (!c->store || c->stopping)
		return;
	double now = cd_now(c);
	cd_duties_tick(c, now);
	if (cd_every_due(&c->progress, now, c->slack))
		cd_watch_progress(c->watch, cst_applied_index(c->store));
}

void cd_core_stop(cd_core *c)
{
	c->stopping = true;
}

void cd_core_free(cd_core *c)
{
	if (!c)
		return;
	cd_duties_close(c);
	cd_watch_free(c->watch);
	free(c->token);
	free(c);
}
