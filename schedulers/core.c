/* core.c: a scheduler's work loop (ARCHITECTURE.md §4). It owns the pending
 * jobs of its class that hash to it, decides one job at a time on the replica,
 * keeps at most one transaction per job in flight, and after an answer
 * waits until the replica has applied the answer's entry before the job is
 * looked at again: then the replica shows what committed, the rejected
 * tasks are still pending, and only they are retried. Work that fits
 * nowhere is parked until capacity changes; repeated conflicts without
 * progress use up a retry budget, after which the job cools down: it waits
 * for a change of capacity or COOL_DOWN_US, whichever comes first (a cell
 * where nothing frees up must not strand it; nor may it spin). */
#include "internal.h"
#include "jobs.h"

#include <stdlib.h>
#include <string.h>

#define ERROR_BACKOFF_US 500000  /* after a failed submit, before deciding */
#define COOL_DOWN_US     1000000 /* after the retry budget is spent */

/* A transaction this core submitted, until its entry is applied. */
struct flight {
	uint64_t ticket;
	struct sjob *job;        /* NULL for a note */
	struct sp_claim *claims; /* owned; dropped once applied */
	uint32_t nclaims;
	uint8_t *kinds; /* owned: the op kinds, for the verdicts */
	uint32_t nops;
	bool answered;
	uint64_t index; /* the entry that decided it, once answered */
};

struct sp_core {
	struct sp_core_config cfg;
	char *name, *class_name, *spread_label;
	struct sp_io io;
	sp_planner *planner;
	sp_claims *claims;
	uint64_t rng, next_ticket;
	struct sj_map jobs;
	struct sj_list queue, parked, never, cooling;
	struct flight *flights;
	uint32_t nflights, flights_cap;
	uint64_t flights_checked; /* last index whose flights were ended */
	bool rescan, unpark_capacity, unpark_all, stopped;
	/* a job was parked while our own claims held room or (coarse) made
	 * machines unusable: the next flight to finish may free them */
	bool parked_under_claims;
	/* think time: the decision is made, its commit waits */
	bool thinking;
	int64_t think_until;
	cs_txn *held_txn;
	uint64_t held_ticket;
	int64_t backoff_until, started_us;
	struct sp_stats st;
	uint64_t busy_us;
	/* metrics (NULL without a registry) */
	struct cc_counter_vec *m_txns, *m_conflicts;
	struct cc_histogram *m_wait, *m_placement;
};

/* ---- metrics ---- */

static double ratio(uint64_t a, uint64_t b)
{
	return b ? (double)a / (double)b : 0;
}

static double g_conflict_fraction(void *arg)
{
	const sp_core *c = arg;
	return ratio(c->st.txns_conflicted, c->st.txns_progress);
}

static double g_task_conflict_fraction(void *arg)
{
	const sp_core *c = arg;
	return ratio(c->st.places_rejected, c->st.places_tried);
}

static double g_busy_seconds(void *arg)
{
	const sp_core *c = arg;
	return (double)c->busy_us / 1e6;
}

static double g_busyness(void *arg)
{
	sp_core *c = arg;
	int64_t up = c->io.mono_us(c->io.arg) - c->started_us;
	return up > 0 ? (double)c->busy_us / (double)up : 0;
}

#define STAT_GAUGE(field)                                                      \
	static double g_##field(void *arg)                                     \
	{                                                                      \
		return (double)((const sp_core *)arg)->st.field;               \
	}
STAT_GAUGE(retries)
STAT_GAUGE(tasks_placed)
STAT_GAUGE(decisions)
STAT_GAUGE(places_tried)
STAT_GAUGE(places_rejected)
STAT_GAUGE(notes)
static double g_parked(void *arg)
{
	const sp_core *c = arg;
	return (double)(c->parked.count + c->never.count + c->cooling.count);
}
static double g_queued(void *arg)
{
	return (double)((const sp_core *)arg)->queue.count;
}
static double g_inflight(void *arg)
{
	return (double)((const sp_core *)arg)->nflights;
}

static void register_metrics(sp_core *c, cc_metrics *m)
{
	/* 10 per decade, 100 us to 1000 s: cellbench reads the p90 of job
	 * waits from them, at time scales that make cell seconds real ms */
	double secs[80];
	size_t nsecs = cc_log_bounds(1e-4, 1000, 10, secs, 80);
	c->m_txns = cc_counter_vec_new(
	    m, "cellsched_txns_total",
	    "Answered transactions by outcome: committed (every op accepted), "
	    "partial, rejected (none accepted) or error (outcome unknown)",
	    "outcome");
	c->m_conflicts = cc_counter_vec_new(
	    m, "cellsched_conflicts_total",
	    "Rejected ops of this scheduler's transactions, by reason",
	    "reason");
	cc_gauge_fn_new(m, "cellsched_conflict_fraction",
	                "Transactions with a rejected op per transaction that "
	                "committed something (Omega's conflict fraction)",
	                g_conflict_fraction, c);
	cc_gauge_fn_new(m, "cellsched_task_conflict_fraction",
	                "Rejected placements per attempted placement",
	                g_task_conflict_fraction, c);
	cc_gauge_fn_new(m, "cellsched_retries_total",
	                "Decisions re-made after a rejection", g_retries, c);
	cc_gauge_fn_new(m, "cellsched_tasks_placed_total",
	                "Placements this scheduler committed", g_tasks_placed,
	                c);
	cc_gauge_fn_new(m, "cellsched_places_tried_total",
	                "Placements sent in transactions answered so far",
	                g_places_tried, c);
	cc_gauge_fn_new(m, "cellsched_places_rejected_total",
	                "Placements the cell rejected (conflicts)",
	                g_places_rejected, c);
	cc_gauge_fn_new(m, "cellsched_decisions_total",
	                "Jobs decided (one transaction each at most)",
	                g_decisions, c);
	cc_gauge_fn_new(m, "cellsched_notes_total",
	                "Job notes written (why a job is pending)", g_notes, c);
	cc_gauge_fn_new(
	    m, "cellsched_parked_jobs",
	    "Jobs waiting for capacity or for a machine they fit on", g_parked,
	    c);
	cc_gauge_fn_new(m, "cellsched_queued_jobs",
	                "Jobs waiting for a decision", g_queued, c);
	cc_gauge_fn_new(m, "cellsched_inflight_txns",
	                "Transactions submitted and not yet applied locally",
	                g_inflight, c);
	cc_gauge_fn_new(m, "cellsched_busy_seconds_total",
	                "Time spent deciding and thinking", g_busy_seconds, c);
	cc_gauge_fn_new(m, "cellsched_busyness",
	                "Fraction of the time since start spent deciding and "
	                "thinking (Omega's scheduler busyness)",
	                g_busyness, c);
	c->m_wait = cc_histogram_new(
	    m, "cellsched_job_wait_seconds",
	    "From a job's submission to this scheduler's first attempt at it",
	    secs, nsecs);
	c->m_placement = cc_histogram_new(
	    m, "cellsched_placement_seconds",
	    "From a job's submission to the commit of each of its placements",
	    secs, nsecs);
}

/* ---- life ---- */

sp_core *sp_core_new(const struct sp_core_config *cfg, const struct sp_io *io)
{
	sp_core *c = cu_xcalloc(1, sizeof(*c));
	c->cfg = *cfg;
	c->name = cu_xstrdup(cfg->name);
	c->class_name = cu_xstrdup(cfg->class_name);
	c->spread_label = cu_xstrdup(cfg->params.spread_label);
	c->cfg.params.spread_label = c->spread_label;
	if (!c->cfg.max_inflight)
		c->cfg.max_inflight = 8;
	c->io = *io;
	c->planner = sp_planner_new();
	c->claims = sp_claims_new();
	c->rng = cfg->seed ? cfg->seed : 1;
	sj_map_init(&c->jobs);
	sj_list_init(&c->queue);
	sj_list_init(&c->parked);
	sj_list_init(&c->never);
	sj_list_init(&c->cooling);
	c->rescan = true;
	c->started_us = io->mono_us(io->arg);
	if (cfg->metrics)
		register_metrics(c, cfg->metrics);
	return c;
}

void sp_core_free(sp_core *c)
{
	if (!c)
		return;
	for (uint32_t i = 0; i < c->nflights; i++) {
		free(c->flights[i].claims);
		free(c->flights[i].kinds);
	}
	free(c->flights);
	cs_txn_free(c->held_txn);
	sj_map_free(&c->jobs);
	sp_claims_free(c->claims);
	sp_planner_free(c->planner);
	free(c->name);
	free(c->class_name);
	free(c->spread_label);
	free(c);
}

void sp_core_stop(sp_core *c)
{
	c->stopped = true;
}

/* ---- where jobs go ---- */

static const cs_state *state(const sp_core *c)
{
	return c->io.state(c->io.arg);
}

static bool owned(const sp_core *c, const struct cs_job *job)
{
	if (strcmp(job->spec.class_name, c->class_name))
		return false;
	const struct cs_sched *o = sp_owner(state(c), job);
	return o && !strcmp(o->name, c->name);
}

static bool schedulable(const struct cs_job *job)
{
	return job->count[CS_TASK_PENDING] &&
	       (job->state == CS_JOB_PENDING || job->state == CS_JOB_RUNNING);
}

static struct sj_list *list_of(sp_core *c, enum sj_where w)
{
	switch (w) {
	case SJ_QUEUED:
		return &c->queue;
	case SJ_PARKED:
		return &c->parked;
	case SJ_NEVER:
		return &c->never;
	case SJ_COOLING:
		return &c->cooling;
	default:
		return NULL;
	}
}

static void move_to(sp_core *c, struct sjob *j, enum sj_where w)
{
	struct sj_list *from = list_of(c, j->where), *to = list_of(c, w);
	if (from)
		sj_list_unlink(from, j);
	j->where = w;
	if (to)
		sj_list_push(to, j);
}

static void forget(sp_core *c, struct sjob *j)
{
	struct sj_list *from = list_of(c, j->where);
	if (from)
		sj_list_unlink(from, j);
	sj_remove(&c->jobs, j);
}

/* A job that may have pending tasks for us: queue it unless known. */
static void consider(sp_core *c, const char *name)
{
	if (sj_find(&c->jobs, name))
		return;
	const struct cs_job *job = cs_job_find(state(c), name);
	if (!job || !schedulable(job) || !owned(c, job))
		return;
	struct sjob *j = sj_add(&c->jobs, name);
	j->where = SJ_QUEUED;
	sj_list_push(&c->queue, j);
}

static void rescan(sp_core *c)
{
	const cs_state *s = state(c);
	size_t cursor = 0;
	for (const struct cs_job *job; (job = cs_job_next(s, &cursor));)
		if (schedulable(job))
			consider(c, job->spec.name);
	/* ownership may have moved: parked jobs are re-checked when popped */
	c->unpark_all = true;
}

static void unpark(sp_core *c, struct sj_list *l)
{
	for (struct sjob *j; (j = sj_list_first(l));) {
		j->rounds = 0;
		move_to(c, j, SJ_QUEUED);
	}
}

/* ---- news from the replica ---- */

static void finish_flight(sp_core *c, uint32_t i);

static void drop_ended(sp_core *c, const char *name)
{
	struct sjob *j = sj_find(&c->jobs, name);
	if (j && (j->where == SJ_PARKED || j->where == SJ_NEVER ||
	          j->where == SJ_COOLING))
		forget(c, j);
}

static void note_change(sp_core *c, const struct cs_change *ch)
{
	switch (ch->kind) {
	case CS_CHANGE_JOB:
		if (ch->state == CS_JOB_PENDING || ch->state == CS_JOB_RUNNING)
			consider(c, ch->job);
		else if (ch->state != CS_JOB_BLOCKED)
			drop_ended(c, ch->job);
		break;
	case CS_CHANGE_JOB_REMOVED:
		drop_ended(c, ch->job);
		break;
	case CS_CHANGE_TASK:
		if (ch->state == CS_TASK_PENDING)
			consider(c, ch->job);
		if (ch->state != CS_TASK_ASSIGNED &&
		    ch->state != CS_TASK_RUNNING && ch->machine[0])
			c->unpark_capacity = true; /* it left a machine */
		break;
	case CS_CHANGE_MACHINE:
		if (ch->state == CS_MACHINE_UP)
			c->unpark_all = true; /* new, back, or resized */
		break;
	default:
		break;
	}
}

bool sp_core_applied(sp_core *c, uint64_t index, const cs_txn *txn,
                     const cs_result *res)
{
	bool registry = false;
	for (uint32_t i = 0; i < res->nchanges; i++)
		note_change(c, &res->changes[i]);
	for (uint32_t i = 0; txn && i < txn->nops && i < res->nops; i++)
		registry =
		    registry || ((txn->ops[i].kind == CS_OP_SCHED_REGISTER ||
		                  txn->ops[i].kind == CS_OP_SCHED_UNREGISTER) &&
		                 res->ops[i].reason == CS_R_OK);
	c->rescan = c->rescan || registry;
	/* one entry holds many transactions: flights end once per index */
	if (index == c->flights_checked)
		return registry;
	c->flights_checked = index;
	for (uint32_t i = 0; i < c->nflights;)
		if (c->flights[i].answered && c->flights[i].index <= index)
			finish_flight(c, i); /* moves the last one to i */
		else
			i++;
	return registry;
}

void sp_core_reset(sp_core *c)
{
	sp_claims_reset(c->claims);
	for (uint32_t i = 0; i < c->nflights; i++) {
		free(c->flights[i].claims);
		c->flights[i].claims = NULL;
		c->flights[i].nclaims = 0;
	}
	c->rescan = true;
}

/* ---- flights ---- */

static struct flight *flight_new(sp_core *c, struct sjob *j)
{
	if (c->nflights == c->flights_cap) {
		c->flights_cap = c->flights_cap ? 2 * c->flights_cap : 16;
		c->flights = cu_xrealloc(c->flights,
		                         c->flights_cap * sizeof(*c->flights));
	}
	struct flight *f = &c->flights[c->nflights++];
	memset(f, 0, sizeof(*f));
	f->ticket = ++c->next_ticket;
	f->job = j;
	return f;
}

static void txn_id(const sp_core *c, uint64_t ticket, char *buf, size_t len)
{
	snprintf(buf, len, "%s.%llx.%llu", c->name,
	         (unsigned long long)(c->cfg.seed & 0xffffffffffull),
	         (unsigned long long)ticket);
}

/* The job's transaction is decided: the rest of the cell's news can come
 * in, and the claims hold its machines meanwhile. */
static void claim(sp_core *c, struct flight *f, struct sp_decision *d)
{
	f->claims = d->claims;
	f->nclaims = d->places;
	d->claims = NULL;
	for (uint32_t i = 0; i < f->nclaims; i++)
		sp_claims_add(c->claims, f->claims[i].slot, &f->claims[i].res);
}

static void release(sp_core *c, struct flight *f)
{
	for (uint32_t i = 0; i < f->nclaims; i++)
		sp_claims_drop(c->claims, f->claims[i].slot, &f->claims[i].res);
	free(f->claims);
	f->claims = NULL;
	f->nclaims = 0;
}

static void finish_flight(sp_core *c, uint32_t i)
{
	struct flight *f = &c->flights[i];
	release(c, f);
	free(f->kinds);
	struct sjob *j = f->job;
	c->flights[i] = c->flights[--c->nflights];
	if (c->parked_under_claims) {
		c->parked_under_claims = false;
		c->unpark_capacity = true;
	}
	if (!j)
		return;
	if (j->rounds > c->cfg.params.policy->retry_budget) {
		/* conflicts without progress: let the cell move on first */
		j->cool_until = c->io.mono_us(c->io.arg) + COOL_DOWN_US;
		move_to(c, j, SJ_COOLING);
		return;
	}
	if (j->rejected)
		c->st.retries++;
	move_to(c, j, SJ_QUEUED);
}

static int find_flight(const sp_core *c, uint64_t ticket)
{
	for (uint32_t i = 0; i < c->nflights; i++)
		if (c->flights[i].ticket == ticket)
			return (int)i;
	return -1;
}

static void count_txn(sp_core *c, const char *outcome)
{
	if (c->m_txns)
		cc_counter_inc(cc_counter_vec_get1(c->m_txns, outcome));
}

/* Verdicts of one answer: stats, metrics, and the job's retry state. */
static void take_verdicts(sp_core *c, struct flight *f, const cs_result *res)
{
	uint32_t rejected = res->nops - res->accepted, places_ok = 0;
	c->st.txns++;
	c->st.txns_conflicted += rejected > 0;
	c->st.txns_progress += res->accepted > 0;
	count_txn(c, !rejected       ? "committed"
	             : res->accepted ? "partial"
	                             : "rejected");
	for (uint32_t i = 0; i < res->nops; i++) {
		enum cs_reason r = res->ops[i].reason;
		bool place = i < f->nops && f->kinds[i] == CS_OP_PLACE;
		c->st.places_tried += place;
		c->st.places_rejected += place && r != CS_R_OK;
		places_ok += place && r == CS_R_OK;
		if (r != CS_R_OK && c->m_conflicts)
			cc_counter_inc(cc_counter_vec_get1(c->m_conflicts,
			                                   cs_reason_name(r)));
	}
	c->st.tasks_placed += places_ok;
	if (!f->job)
		return;
	f->job->rejected = rejected > 0;
	if (res->accepted)
		f->job->rounds = 0;
	else if (rejected)
		f->job->rounds++;
	const struct cs_job *job = cs_job_find(state(c), f->job->name);
	int64_t now = c->io.wall_ms(c->io.arg);
	for (uint32_t i = 0; job && c->m_placement && i < places_ok; i++)
		cc_histogram_observe(c->m_placement,
		                     (double)(now - job->submit_ms) / 1e3);
}

void sp_core_committed(sp_core *c, uint64_t ticket, int status,
                       const cs_result *res)
{
	int i = find_flight(c, ticket);
	if (i < 0)
		return;
	struct flight *f = &c->flights[i];
	if (status || !res) {
		/* outcome unknown: the replica will show it; decide again
		 * after a pause, never in a loop against a cell that is down */
		count_txn(c, "error");
		c->backoff_until = c->io.mono_us(c->io.arg) + ERROR_BACKOFF_US;
		if (f->job)
			f->job->rejected = true;
		finish_flight(c, (uint32_t)i);
		return;
	}
	take_verdicts(c, f, res);
	f->answered = true;
	f->index = res->index;
	if (cs_state_applied_index(state(c)) >= f->index)
		finish_flight(c, (uint32_t)i);
}

/* ---- deciding ---- */

static void submit(sp_core *c, struct flight *f, cs_txn *txn)
{
	f->nops = txn->nops;
	f->kinds = cu_xmalloc(txn->nops);
	for (uint32_t i = 0; i < txn->nops; i++)
		f->kinds[i] = (uint8_t)txn->ops[i].kind;
	c->io.submit(c->io.arg, txn, f->ticket);
}

/* Tells users why the job waits (cellctl job get shows it), once per
 * reason: a placement clears the note inside cellstate. */
static void write_note(sp_core *c, const struct cs_job *job, const char *why)
{
	if (job->note && !strcmp(job->note, why))
		return;
	struct flight *f = flight_new(c, NULL);
	char id[CS_ID_MAX];
	txn_id(c, f->ticket, id, sizeof(id));
	cs_txn *t = cs_txn_new(id, c->name, CS_INCREMENTAL, CS_FINE);
	cs_txn_job_note(t, job->spec.name, why);
	c->st.notes++;
	submit(c, f, t);
}

static void park(sp_core *c, struct sjob *j, const struct cs_job *job)
{
	char why[CS_NOTE_MAX];
	bool never = sp_never_fits(state(c), job, why, sizeof(why));
	if (!never && job->spec.gang)
		snprintf(
		    why, sizeof(why),
		    "waiting for capacity: the gang's pending tasks do not "
		    "all fit at once");
	else if (!never)
		snprintf(why, sizeof(why),
		         "waiting for capacity: its pending tasks fit on no "
		         "machine now");
	move_to(c, j, never ? SJ_NEVER : SJ_PARKED);
	c->parked_under_claims = c->parked_under_claims || c->nflights > 0;
	write_note(c, job, why);
}

static void observe_wait(sp_core *c, struct sjob *j, const struct cs_job *job)
{
	if (j->attempted)
		return;
	j->attempted = true;
	if (c->m_wait)
		cc_histogram_observe(
		    c->m_wait,
		    (double)(c->io.wall_ms(c->io.arg) - job->submit_ms) / 1e3);
}

static void decide_one(sp_core *c, struct sjob *j)
{
	const struct cs_job *job = cs_job_find(state(c), j->name);
	if (!job || !schedulable(job) || !owned(c, job)) {
		forget(c, j);
		return;
	}
	int64_t t0 = c->io.mono_us(c->io.arg);
	observe_wait(c, j, job);
	struct flight *f = flight_new(c, j);
	char id[CS_ID_MAX];
	txn_id(c, f->ticket, id, sizeof(id));
	struct sp_decision d;
	sp_decide(c->planner, state(c), job, c->claims, &c->cfg.params, &c->rng,
	          id, c->name, &d);
	c->st.decisions++;
	int64_t t1 = c->io.mono_us(c->io.arg);
	c->busy_us += (uint64_t)(t1 - t0);
	if (!d.txn) {
		c->nflights--; /* the flight just added is the last */
		sp_decision_clear(&d);
		park(c, j, job);
		return;
	}
	move_to(c, j, SJ_FLIGHT);
	claim(c, f, &d);
	uint64_t think =
	    c->cfg.think_job_us + c->cfg.think_task_us * (uint64_t)d.places;
	cs_txn *txn = d.txn;
	d.txn = NULL;
	sp_decision_clear(&d);
	if (!think) {
		submit(c, f, txn);
		return;
	}
	/* Omega's decision time: the transaction goes out when it is over,
	 * with the seqs seen at the start, and nothing else is decided */
	c->thinking = true;
	c->think_until = t1 + (int64_t)think;
	c->held_txn = txn;
	c->held_ticket = f->ticket;
	c->busy_us += think;
}

static void end_think(sp_core *c)
{
	c->thinking = false;
	cs_txn *t = c->held_txn;
	c->held_txn = NULL;
	int i = find_flight(c, c->held_ticket);
	if (i >= 0)
		submit(c, &c->flights[i], t);
	else
		cs_txn_free(t);
}

int64_t sp_core_run(sp_core *c)
{
	if (c->stopped)
		return -1;
	int64_t now = c->io.mono_us(c->io.arg);
	if (c->thinking) {
		if (now < c->think_until)
			return c->think_until - now;
		end_think(c);
	}
	if (c->rescan) {
		c->rescan = false;
		rescan(c);
	}
	if (c->unpark_all)
		unpark(c, &c->never);
	if (c->unpark_all || c->unpark_capacity) {
		unpark(c, &c->parked);
		unpark(c, &c->cooling);
	}
	c->unpark_all = c->unpark_capacity = false;
	/* the cooling list is in time order: one constant delay */
	for (struct sjob *j;
	     (j = sj_list_first(&c->cooling)) && j->cool_until <= now;) {
		j->rounds = 0;
		move_to(c, j, SJ_QUEUED);
	}
	if (now < c->backoff_until)
		return c->backoff_until - now;
	for (struct sjob *j; (j = sj_list_first(&c->queue)) &&
	                     c->nflights < c->cfg.max_inflight;) {
		decide_one(c, j);
		if (c->thinking)
			return c->think_until - c->io.mono_us(c->io.arg);
	}
	const struct sjob *next = sj_list_first(&c->cooling);
	return next ? next->cool_until - now : -1;
}

void sp_core_stats(const sp_core *c, struct sp_stats *out)
{
	*out = c->st;
	out->owned = c->jobs.count;
	out->queued = c->queue.count;
	out->inflight = c->nflights;
	out->parked = c->parked.count + c->never.count + c->cooling.count;
	out->busy_seconds = (double)c->busy_us / 1e6;
}
