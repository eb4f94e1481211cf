/* codec_entity.c: JSON views of stored machines, jobs, tasks and
 * schedulers, as the API shows them and as snapshots store them. */
#include "json_util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Resource vector by name; zero dimensions are left out. */
static json_t *res_json(const cs_state *s, const cs_res *r)
{
	json_t *o = cs_jnew(json_object());
	for (uint32_t i = 0; i < s->nres; i++)
		if (r->v[i] || i < CS_RES_FIXED)
			cs_jset_u64(o, s->res_names[i], r->v[i]);
	return o;
}

json_t *cs_machine_encode(const cs_state *s, const struct cs_machine *m)
{
	json_t *o = cs_jnew(json_object());
	cs_jset_str(o, "name", m->name);
	cs_jset_str(o, "pool", m->pool);
	cs_jset(o, "labels", cs_jlabels(m->labels, m->nlabels));
	cs_jset_str(o, "agent", m->agent); /* only when set */
	cs_jset_str(o, "state", cs_machine_state_name(m->state));
	cs_jset_u64(o, "seq", m->seq);
	cs_jset(o, "capacity", res_json(s, &m->capacity));
	cs_jset(o, "allocated", res_json(s, &m->allocated));
	cs_jset_u64(o, "tasks", m->ntasks);
	return o;
}

/* Jobs a blocked job still waits for: the ones whose dependents list it. */
static json_t *waiting_on(const cs_state *s, const struct cs_job *job)
{
	json_t *a = cs_jnew(json_array());
	for (uint32_t i = 0; job->deps_waiting && i < job->spec.ndeps; i++) {
		const struct cs_job *dep = cs_job_find(s, job->spec.deps[i]);
		for (uint32_t k = 0; dep && k < dep->ndependents; k++)
			if (dep->dependents[k] == job) {
				json_array_append_new(
				    a, cs_jstring(dep->spec.name));
				break;
			}
	}
	return a;
}

json_t *cs_job_encode(const cs_state *s, const struct cs_job *job)
{
	json_t *o = cs_jnew(json_object());
	cs_jset(o, "spec", cs_job_spec_encode(&job->spec));
	cs_jset_str(o, "state", cs_job_state_name(job->state));
	if (job->cause != CS_CAUSE_NONE)
		cs_jset_str(o, "cause", cs_job_cause_name(job->cause));
	cs_jset_i64(o, "submit_ms", job->submit_ms);
	if (job->end_ms)
		cs_jset_i64(o, "end_ms", job->end_ms);
	if (job->state == CS_JOB_BLOCKED)
		cs_jset(o, "waiting_on", waiting_on(s, job));
	cs_jset_str(o, "note", job->note); /* only when set */
	json_t *counts = cs_jnew(json_object());
	for (int st = 0; st < CS_TASK_STATE__COUNT; st++)
		if (job->count[st])
			cs_jset_u64(counts, cs_task_state_name(st),
			            job->count[st]);
	cs_jset(o, "counts", counts);
	return o;
}

json_t *cs_task_fields(const cs_state *s, const struct cs_task *t)
{
	json_t *o = cs_jnew(json_object());
	cs_jset_u64(o, "index", cs_task_index(t));
	cs_jset_str(o, "state", cs_task_state_name(t->state));
	if (t->machine != CS_NO_MACHINE)
		cs_jset_str(o, "machine", cs_machine_at(s, t->machine)->name);
	cs_jset_u64(o, "attempt", t->attempt);
	cs_jset_u64(o, "failures", t->failures);
	cs_jset_i64(o, "exit_code", t->exit_code);
	cs_jset_str(o, "last_end", cs_task_end_name(t->last_end));
	return o;
}

json_t *cs_task_encode(const cs_state *s, const struct cs_task *t)
{
	json_t *o = cs_task_fields(s, t);
	cs_jset_str(o, "job", t->job->spec.name);
	return o;
}

json_t *cs_sched_encode(const struct cs_sched *sc)
{
	const struct cs_sched_spec spec = {(char *)sc->name,
	                                   (char *)sc->class_name,
	                                   (char *)sc->policy, sc->member};
	return cs_sched_spec_json(&spec);
}

static const char *change_state_name(const struct cs_change *c)
{
	switch (c->kind) {
	case CS_CHANGE_TASK:
		return cs_task_state_name(c->state);
	case CS_CHANGE_JOB:
		return cs_job_state_name(c->state);
	case CS_CHANGE_MACHINE:
		return cs_machine_state_name(c->state);
	default:
		return NULL;
	}
}

json_t *cs_change_encode(const struct cs_change *c, uint64_t index)
{
	json_t *o = cs_jnew(json_object());
	cs_jset_u64(o, "index", index);
	cs_jset_str(o, "kind", cs_change_kind_name(c->kind));
	if (c->job[0])
		cs_jset_str(o, "job", c->job);
	if (c->kind == CS_CHANGE_TASK) {
		cs_jset_u64(o, "task", c->task);
		cs_jset_u64(o, "attempt", c->attempt);
	}
	if (c->machine[0])
		cs_jset_str(o, "machine", c->machine);
	cs_jset_str(o, "state", change_state_name(c));
	if (c->kind == CS_CHANGE_TASK && c->end != CS_END_NONE) {
		cs_jset_str(o, "end", cs_task_end_name(c->end));
		cs_jset_i64(o, "exit_code", c->exit_code);
	}
	return o;
}

/* ---- the watch line as text ---- */

struct text {
	char *p;
	size_t len, at; /* at may pass len: then only the length counts */
};

static void put(struct text *t, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	size_t room = t->at < t->len ? t->len - t->at : 0;
	int n = vsnprintf(room ? t->p + t->at : NULL, room, fmt, ap);
	va_end(ap);
	t->at += n > 0 ? (size_t)n : 0;
}

static void put_raw(struct text *t, const char *s, size_t n)
{
	if (t->at + n < t->len) {
		memcpy(t->p + t->at, s, n);
		t->p[t->at + n] = 0;
	} else if (t->at < t->len) {
		t->p[t->at] = 0; /* did not fit: stop writing */
		t->len = t->at;
	}
	t->at += n;
}

/* ,"key":"value" with the value escaped as jansson escapes it (names are
 * [a-z0-9._-] in a valid state; escaping keeps any byte safe anyway). */
static void put_str(struct text *t, const char *key, const char *v)
{
	static const char plain[] = "\"\\\b\f\n\r\t", code[] = "\"\\bfnrt";
	put(t, ",\"%s\":\"", key);
	for (const char *c = v; *c;) {
		size_t run = 0;
		while (c[run] && (unsigned char)c[run] >= 0x20 &&
		       c[run] != '"' && c[run] != '\\')
			run++;
		put_raw(t, c, run);
		c += run;
		if (!*c)
			break;
		const char *esc = strchr(plain, *c);
		if (esc)
			put(t, "\\%c", code[esc - plain]);
		else
			put(t, "\\u%04X", (unsigned char)*c);
		c++;
	}
	put_raw(t, "\"", 1);
}

size_t cs_change_format(const struct cs_change *c, uint64_t index, char *buf,
                        size_t len)
{
	struct text t = {buf, len, 0};
	if (len)
		buf[0] = 0;
	put(&t, "{\"index\":%llu", (unsigned long long)index);
	put_str(&t, "kind", cs_change_kind_name(c->kind));
	if (c->job[0])
		put_str(&t, "job", c->job);
	if (c->kind == CS_CHANGE_TASK)
		put(&t, ",\"task\":%u,\"attempt\":%u", c->task, c->attempt);
	if (c->machine[0])
		put_str(&t, "machine", c->machine);
	const char *state = change_state_name(c);
	if (state)
		put_str(&t, "state", state);
	if (c->kind == CS_CHANGE_TASK && c->end != CS_END_NONE) {
		put_str(&t, "end", cs_task_end_name(c->end));
		put(&t, ",\"exit_code\":%d", c->exit_code);
	}
	put(&t, "}");
	return t.at;
}
