/* core.c: the agent core (cellagent.h). Per task (job, index) it keeps a
 * slot: the cell's view of the task (which attempt, which state, on which
 * of our machines, as of which log index) and the attempts of it that
 * exist here. reconcile() compares the two after every piece of news. */
#include "cellagent.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cellcommon.h"

#define NO_MACHINE  AG_NO_MACHINE
#define NOTE_SIZE   400
#define JOBS_CACHED 4096 /* job specs kept while no task needs them */

/* A job some slot refers to, with its spec once fetched. */
struct job {
	char *name;               /* owned; its key in c->jobs */
	uint64_t hash;            /* of name: the seed of its slots' hashes */
	struct cs_job_spec *spec; /* owned; NULL until fetched */
	bool fetching;
	uint32_t refs;        /* slots that point here */
	struct slot *waiting; /* slots with an attempt waiting for the spec */
};

enum phase {
	L_WAITING,  /* wanted; waiting for the job's spec */
	L_RUNNING,  /* started */
	L_STOPPING, /* stop asked; its end is not reported */
	L_ENDED,    /* ended; the report waits for the cell's view */
	L_DONE      /* reported (its end, a refusal), or given up: nothing
	               more to do for this attempt, ever */
};

/* One attempt of a task that exists here. */
struct local {
	uint32_t attempt;
	enum phase phase;
	bool reported_running;
	enum ag_how how; /* L_ENDED: */
	int code;
	char *detail; /* owned, or NULL */
	struct local *next;
};

struct slot_key {
	struct job *job;
	uint32_t index;
};

/* Hundreds of thousands of these on a hollow agent: the small fields are
 * packed together. */
struct slot {
	struct slot_key key; /* its key in c->slots */
	/* the cell's view; `machine` is NO_MACHINE when not on one of ours */
	uint64_t seen; /* log index of the latest news */
	uint32_t attempt;
	uint8_t state;
	bool is_waiting;
	uint32_t machine;
	uint32_t gen; /* the load that last listed it */
	struct local *locals;
	struct slot *wait_next; /* in job->waiting */
};

struct ag_core {
	struct ag_exec exec;
	struct ag_io io;
	/* jobs: name -> struct job (owned); slots: struct slot_key -> struct
	 * slot (owned); machine_map: name -> struct machine (owned) */
	struct cu_map jobs, slots, machine_map;
	char **machines; /* owned names; id = index */
	uint32_t nmachines, cap_machines;
	uint32_t gen;
	bool loading, loaded;
	struct ag_report *reports, **reports_tail;
	size_t nreports;
	uint64_t started, ended, stopped, refused;
};

/* ---- keys and lookups ---- */

/* Mixed: the slots of one job have consecutive indices, and the map
 * probes linearly. */
static uint64_t hash_slot(const struct job *j, uint32_t index)
{
	return cu_mix64(j->hash + index);
}

struct machine {
	uint32_t id;
	const char *name; /* c->machines[id] */
};

static bool slot_is(const void *stored, const void *key)
{
	const struct slot_key *a = stored, *b = key;
	return a->job == b->job && a->index == b->index;
}

static uint32_t machine_id(const ag_core *c, const char *name)
{
	if (!name || !*name)
		return NO_MACHINE;
	const struct machine *m = cu_map_get(&c->machine_map, name);
	return m ? m->id : NO_MACHINE;
}

static struct job *job_find(const ag_core *c, const char *name)
{
	return cu_map_get(&c->jobs, name);
}

static struct job *job_get(ag_core *c, const char *name)
{
	struct job *j = job_find(c, name);
	if (j)
		return j;
	j = cu_xcalloc(1, sizeof(*j));
	j->name = cu_xstrdup(name);
	j->hash = cu_hash_str(name, 0);
	cu_map_put(&c->jobs, j->name, j);
	return j;
}

static void job_destroy(struct job *j)
{
	cs_job_spec_free(j->spec);
	free(j->name);
	free(j);
}

static void job_free(ag_core *c, struct job *j)
{
	cu_map_del(&c->jobs, j->name);
	job_destroy(j);
}

/* Frees every job nothing refers to and nothing is fetching. */
static void jobs_sweep(ag_core *c)
{
	size_t it = 0;
	for (struct cu_map_slot *e; (e = cu_map_next(&c->jobs, &it));) {
		struct job *j = e->value;
		if (!j->refs && !j->fetching)
			job_free(c, j); /* deletes e: iteration goes on */
	}
}

/* A job nobody refers to stays cached with its spec (its next task placed
 * here needs no fetch) until the cell removes it; without a spec, or when
 * the cache outgrows JOBS_CACHED, it goes. */
static void job_release(ag_core *c, struct job *j)
{
	if (j->refs || j->fetching)
		return;
	if (!j->spec)
		job_free(c, j);
	else if (c->jobs.used > JOBS_CACHED)
		jobs_sweep(c);
}

static struct slot *slot_find(const ag_core *c, struct job *j, uint32_t index)
{
	struct slot_key k = {j, index};
	return cu_map_get_by(&c->slots, hash_slot(j, index), &k, slot_is);
}

static struct slot *slot_get(ag_core *c, const char *job, uint32_t index)
{
	struct job *j = job_get(c, job);
	struct slot *s = slot_find(c, j, index);
	if (s)
		return s;
	s = cu_xcalloc(1, sizeof(*s));
	s->key = (struct slot_key){j, index};
	s->machine = NO_MACHINE;
	j->refs++;
	cu_map_put_by(&c->slots, hash_slot(j, index), &s->key, s, slot_is);
	return s;
}

static bool wanted(const struct slot *s)
{
	return s->machine != NO_MACHINE &&
	       (s->state == CS_TASK_ASSIGNED || s->state == CS_TASK_RUNNING);
}

static void local_free(struct local *l)
{
	free(l->detail);
	free(l);
}

static void unwait(struct slot *s)
{
	if (!s->is_waiting)
		return;
	for (struct slot **p = &s->key.job->waiting; *p; p = &(*p)->wait_next)
		if (*p == s) {
			*p = s->wait_next;
			break;
		}
	s->is_waiting = false;
}

/* A slot with nothing wanted and nothing here is forgotten. */
static void slot_gc(ag_core *c, struct slot *s)
{
	if (wanted(s) || s->locals || (c->loading && s->gen == c->gen))
		return;
	unwait(s);
	struct job *j = s->key.job;
	cu_map_del_by(&c->slots, hash_slot(j, s->key.index), &s->key, slot_is);
	free(s);
	j->refs--;
	job_release(c, j);
}

/* ---- reports ---- */

void ag_report_free(struct ag_report *r)
{
	if (!r)
		return;
	free(r->job);
	free(r->machine);
	free(r->note);
	free(r);
}

static void report(ag_core *c, const struct slot *s, uint32_t attempt,
                   enum cs_task_state state, int32_t exit_code,
                   const char *note)
{
	struct ag_report *r = cu_xcalloc(1, sizeof(*r));
	r->job = cu_xstrdup(s->key.job->name);
	r->machine = cu_xstrdup(c->machines[s->machine]);
	r->note = note ? cu_xstrdup(note) : NULL;
	r->index = s->key.index;
	r->attempt = attempt;
	r->state = state;
	r->exit_code = exit_code;
	*c->reports_tail = r;
	c->reports_tail = &r->next;
	if (!c->nreports++ && c->io.reports_ready)
		c->io.reports_ready(c->io.arg);
}

struct ag_report *ag_core_take_reports(ag_core *c, size_t max)
{
	struct ag_report *head = c->reports, **end = &c->reports;
	size_t n = 0;
	while (*end && n < max) {
		end = &(*end)->next;
		n++;
	}
	c->reports = *end;
	*end = NULL;
	c->nreports -= n;
	if (!c->reports)
		c->reports_tail = &c->reports;
	return n ? head : NULL;
}

/* An attempt that was refused or found missing: reported once, with a
 * note on the job saying why. */
static void refuse(ag_core *c, struct slot *s, struct local *l,
                   enum cs_task_state state, int32_t exit_code, const char *why)
{
	char note[NOTE_SIZE];
	snprintf(note, sizeof(note), "task %u attempt %u on %s: %s",
	         s->key.index, l->attempt, c->machines[s->machine], why);
	l->phase = L_DONE;
	c->refused++;
	report(c, s, l->attempt, state, exit_code, note);
}

/* An ended attempt the cell still wants here: its outcome as a report.
 * A signal is told apart from an exit code as shells do (128 + signal). */
static void report_end(ag_core *c, struct slot *s, struct local *l)
{
	char why[NOTE_SIZE];
	l->phase = L_DONE;
	switch (l->how) {
	case AG_EXITED:
		report(c, s, l->attempt,
		       l->code ? CS_TASK_FAILED : CS_TASK_SUCCEEDED, l->code,
		       NULL);
		break;
	case AG_SIGNALED:
		report(c, s, l->attempt, CS_TASK_FAILED, 128 + l->code, NULL);
		break;
	case AG_SPAWN_FAILED:
		snprintf(why, sizeof(why), "could not start: %s",
		         l->detail ? l->detail : "no reason given");
		refuse(c, s, l, CS_TASK_FAILED, 127, why);
		break;
	case AG_VANISHED:
		snprintf(why, sizeof(why), "ended without an outcome: %s",
		         l->detail ? l->detail : "no reason given");
		refuse(c, s, l, CS_TASK_LOST, -1, why);
		break;
	}
}

/* ---- starting ---- */

static struct local *local_new(struct slot *s, uint32_t attempt,
                               enum phase phase)
{
	struct local *l = cu_xcalloc(1, sizeof(*l));
	l->attempt = attempt;
	l->phase = phase;
	l->next = s->locals;
	s->locals = l;
	return l;
}

static void start(ag_core *c, struct slot *s, struct local *l)
{
	char err[NOTE_SIZE] = "";
	struct ag_run run = {c->machines[s->machine], s->key.job->name,
	                     s->key.index, l->attempt, s->key.job->spec};
	int rc = c->exec.start(c->exec.arg, &run, err, sizeof(err));
	if (rc == 0) {
		l->phase = L_RUNNING;
		c->started++;
		if (s->state == CS_TASK_ASSIGNED) {
			l->reported_running = true;
			report(c, s, l->attempt, CS_TASK_RUNNING, 0, NULL);
		}
		return;
	}
	char why[NOTE_SIZE + 32];
	snprintf(why, sizeof(why), "refused: %s", err[0] ? err : "no reason");
	if (rc == CC_ESTATE) /* started here before: never twice */
		refuse(c, s, l, CS_TASK_LOST, -1, why);
	else
		refuse(c, s, l, CS_TASK_FAILED, rc == CC_EINVAL ? 127 : -1,
		       why);
}

/* The cell wants attempt `want` here and no local attempt is it. */
static void begin(ag_core *c, struct slot *s, uint32_t want)
{
	struct job *j = s->key.job;
	uint32_t last;
	bool ran =
	    c->exec.last_attempt(c->exec.arg, j->name, s->key.index, &last) &&
	    last >= want;
	struct local *l = local_new(s, want, L_WAITING);
	char why[NOTE_SIZE];
	if (ran && last > want) {
		snprintf(why, sizeof(why),
		         "refused: this machine already ran attempt %u, a "
		         "later one",
		         last);
		refuse(c, s, l, CS_TASK_LOST, -1, why);
	} else if (ran) {
		refuse(c, s, l, CS_TASK_LOST, -1,
		       "it was started here before and is no longer running; "
		       "not running it twice");
	} else if (s->state == CS_TASK_RUNNING) {
		refuse(c, s, l, CS_TASK_LOST, -1,
		       "the cell says it runs here, but this agent has no "
		       "record of starting it");
	} else if (j->spec) {
		start(c, s, l);
	} else {
		s->is_waiting = true;
		s->wait_next = j->waiting;
		j->waiting = s;
		if (!j->fetching) {
			j->fetching = true;
			c->io.fetch_job(c->io.arg, j->name);
		}
	}
}

/* ---- deciding ---- */

/* A local attempt the cell does not want (any more): stop it or drop it. */
static bool unwanted(ag_core *c, struct slot *s, struct local *l)
{
	switch (l->phase) {
	case L_RUNNING:
		l->phase = L_STOPPING;
		c->stopped++;
		c->exec.stop(c->exec.arg, s->key.job->name, s->key.index,
		             l->attempt);
		return false;
	case L_STOPPING:
		return false;
	default: /* waiting, ended or reported: nothing left to do */
		return true;
	}
}

/* The wanted attempt exists here: move it along. */
static void advance(ag_core *c, struct slot *s, struct local *l)
{
	if (l->phase == L_RUNNING && s->state == CS_TASK_ASSIGNED &&
	    !l->reported_running) { /* adopted after a restart */
		l->reported_running = true;
		report(c, s, l->attempt, CS_TASK_RUNNING, 0, NULL);
	} else if (l->phase == L_ENDED) {
		report_end(c, s, l);
	}
}

static void reconcile(ag_core *c, struct slot *s)
{
	if (!c->loaded)
		return;
	uint32_t want = wanted(s) ? s->attempt : UINT32_MAX;
	struct local *mine = NULL;
	for (struct local **p = &s->locals; *p;) {
		struct local *l = *p;
		if (l->attempt == want) {
			mine = l;
		} else if (unwanted(c, s, l)) {
			*p = l->next;
			local_free(l);
			continue;
		}
		p = &l->next;
	}
	if (!mine && s->is_waiting && want == UINT32_MAX)
		unwait(s);
	if (mine)
		advance(c, s, mine);
	else if (want != UINT32_MAX)
		begin(c, s, want);
	slot_gc(c, s);
}

/* ---- news from the cell ---- */

void ag_core_load_begin(ag_core *c)
{
	c->gen++;
	c->loading = true;
}

void ag_core_cell_task(ag_core *c, uint64_t index, const char *job,
                       uint32_t task, uint32_t attempt, const char *machine,
                       enum cs_task_state state)
{
	uint32_t m = machine_id(c, machine);
	struct job *j = job_find(c, job);
	struct slot *s = j ? slot_find(c, j, task) : NULL;
	bool active = state == CS_TASK_ASSIGNED || state == CS_TASK_RUNNING;
	if (!s && (m == NO_MACHINE || !active))
		return; /* not wanted on ours, and nothing of it here */
	if (!s)
		s = slot_get(c, job, task);
	if (index < s->seen)
		return;
	s->seen = index;
	s->attempt = attempt;
	s->state = (uint8_t)state;
	s->machine = m;
	if (c->loading)
		s->gen = c->gen;
	reconcile(c, s);
}

static void each_slot(ag_core *c, void (*fn)(ag_core *, struct slot *))
{
	/* fn may free (and unmap) the slot it is given, never another */
	size_t it = 0;
	for (struct cu_map_slot *e; (e = cu_map_next(&c->slots, &it));)
		fn(c, e->value);
}

/* After a load: what it did not list is no longer wanted here. */
static void settle(ag_core *c, struct slot *s)
{
	if (s->gen != c->gen)
		s->machine = NO_MACHINE;
	reconcile(c, s);
}

void ag_core_load_end(ag_core *c)
{
	c->loading = false;
	c->loaded = true;
	each_slot(c, settle);
}

void ag_core_job_removed(ag_core *c, const char *job)
{
	if (c->exec.forget_job)
		c->exec.forget_job(c->exec.arg, job);
	struct job *j = job_find(c, job);
	if (j && !j->refs && !j->fetching)
		job_free(c, j);
}

void ag_core_job_spec(ag_core *c, const char *job, struct cs_job_spec *spec)
{
	struct job *j = job_find(c, job);
	if (!j) {
		cs_job_spec_free(spec);
		return;
	}
	j->fetching = false;
	cs_job_spec_free(j->spec);
	j->spec = spec;
	struct slot *list = j->waiting;
	j->waiting = NULL;
	j->refs++; /* the walk below may free slots; keep the job */
	while (list) {
		struct slot *s = list;
		list = s->wait_next;
		s->is_waiting = false;
		struct local **p = &s->locals;
		while (*p && (*p)->phase != L_WAITING)
			p = &(*p)->next;
		if (*p && spec) {
			start(c, s, *p);
		} else if (*p) { /* the cell forgot the job: nothing to run
			            and no one to tell; the watch will say
			            what became of the task */
			(*p)->phase = L_DONE;
		}
		reconcile(c, s);
	}
	j->refs--;
	job_release(c, j);
}

/* ---- news from the executor ---- */

static void set_end(struct local *l, const struct ag_outcome *o)
{
	l->phase = L_ENDED;
	l->how = o->how;
	l->code = o->code;
	free(l->detail);
	l->detail = o->detail ? cu_xstrdup(o->detail) : NULL;
}

void ag_core_found(ag_core *c, const char *job, uint32_t index,
                   uint32_t attempt, bool alive, const struct ag_outcome *o)
{
	struct slot *s = slot_get(c, job, index);
	struct local *l = local_new(s, attempt, L_RUNNING);
	if (!alive)
		set_end(l, o);
	reconcile(c, s);
}

void ag_core_ended(ag_core *c, const char *job, uint32_t index,
                   uint32_t attempt, const struct ag_outcome *o)
{
	struct job *j = job_find(c, job);
	struct slot *s = j ? slot_find(c, j, index) : NULL;
	struct local **p = s ? &s->locals : NULL;
	while (p && *p && (*p)->attempt != attempt)
		p = &(*p)->next;
	if (!p || !*p)
		return; /* not ours (any more) */
	struct local *l = *p;
	c->ended++;
	if (l->phase == L_STOPPING) { /* the cell already decided */
		*p = l->next;
		local_free(l);
	} else {
		set_end(l, o);
	}
	reconcile(c, s);
}

/* ---- machines, life, counts ---- */

void ag_core_add_machine(ag_core *c, const char *name)
{
	if (machine_id(c, name) != NO_MACHINE)
		return;
	if (c->nmachines == c->cap_machines) {
		c->cap_machines = c->cap_machines ? 2 * c->cap_machines : 8;
		c->machines = cu_xrealloc(
		    c->machines, c->cap_machines * sizeof(*c->machines));
	}
	struct machine *m = cu_xcalloc(1, sizeof(*m));
	m->id = c->nmachines;
	m->name = c->machines[c->nmachines++] = cu_xstrdup(name);
	cu_map_put(&c->machine_map, m->name, m);
}

uint32_t ag_core_machine_id(const ag_core *c, const char *name)
{
	return machine_id(c, name);
}

ag_core *ag_core_new(const struct ag_exec *exec, const struct ag_io *io)
{
	ag_core *c = cu_xcalloc(1, sizeof(*c));
	c->exec = *exec;
	c->io = *io;
	c->reports_tail = &c->reports;
	return c;
}

static void free_slot(ag_core *c, struct slot *s)
{
	(void)c;
	while (s->locals) {
		struct local *l = s->locals;
		s->locals = l->next;
		local_free(l);
	}
	free(s);
}

void ag_core_free(ag_core *c)
{
	if (!c)
		return;
	each_slot(c, free_slot);
	size_t it = 0;
	for (struct cu_map_slot *e; (e = cu_map_next(&c->jobs, &it));)
		job_destroy(e->value);
	it = 0;
	for (struct cu_map_slot *e; (e = cu_map_next(&c->machine_map, &it));)
		free(e->value);
	for (uint32_t i = 0; i < c->nmachines; i++)
		free(c->machines[i]);
	free(c->machines);
	while (c->reports) {
		struct ag_report *r = c->reports;
		c->reports = r->next;
		ag_report_free(r);
	}
	cu_map_destroy(&c->jobs);
	cu_map_destroy(&c->slots);
	cu_map_destroy(&c->machine_map);
	free(c);
}

static void count_slot(const struct slot *s, struct ag_counts *o)
{
	o->wanted += wanted(s);
	for (const struct local *l = s->locals; l; l = l->next) {
		o->running += l->phase == L_RUNNING || l->phase == L_STOPPING;
		o->waiting += l->phase == L_WAITING;
	}
}

void ag_core_counts(const ag_core *c, struct ag_counts *o)
{
	memset(o, 0, sizeof(*o));
	size_t it = 0;
	for (const struct cu_map_slot *e; (e = cu_map_next(&c->slots, &it));)
		count_slot(e->value, o);
	o->reports = c->nreports;
	o->started = c->started;
	o->ended = c->ended;
	o->stopped = c->stopped;
	o->refused = c->refused;
	o->jobs = c->jobs.used;
	o->loaded = c->loaded;
}
