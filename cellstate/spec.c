/* spec.c: deep copies of machine and job specs, into a transaction's arena
 * or onto the heap (stored jobs, decoded API bodies). */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

static void *alloc(struct cs_arena *a, size_t n)
{
	return a ? cs_arena_alloc(a, n) : cu_xcalloc(1, n);
}

static char *dup(struct cs_arena *a, const char *s)
{
	return a ? cs_arena_strdup(a, s) : cu_xstrdup(s);
}

static struct cs_label *labels_copy(struct cs_arena *a,
                                    const struct cs_label *l, uint32_t n)
{
	if (!n)
		return NULL;
	struct cs_label *out = alloc(a, n * sizeof(*out));
	for (uint32_t i = 0; i < n; i++) {
		out[i].key = dup(a, l[i].key);
		out[i].value = dup(a, l[i].value);
	}
	return out;
}

static struct cs_amount *amounts_copy(struct cs_arena *a,
                                      const struct cs_amount *x, uint32_t n)
{
	if (!n)
		return NULL;
	struct cs_amount *out = alloc(a, n * sizeof(*out));
	for (uint32_t i = 0; i < n; i++) {
		out[i].name = dup(a, x[i].name);
		out[i].value = x[i].value;
	}
	return out;
}

static char **strings_copy(struct cs_arena *a, char *const *s, uint32_t n)
{
	if (!n)
		return NULL;
	char **out = alloc(a, n * sizeof(*out));
	for (uint32_t i = 0; i < n; i++)
		out[i] = dup(a, s[i]);
	return out;
}

struct cs_machine_spec *cs_machine_spec_copy(struct cs_arena *a,
                                             const struct cs_machine_spec *s)
{
	struct cs_machine_spec *c = alloc(a, sizeof(*c));
	c->name = dup(a, s->name);
	c->pool = dup(a, s->pool ? s->pool : "default");
	c->labels = labels_copy(a, s->labels, s->nlabels);
	c->nlabels = s->nlabels;
	c->capacity = amounts_copy(a, s->capacity, s->ncapacity);
	c->ncapacity = s->ncapacity;
	c->state = s->state;
	c->agent = dup(a, s->agent);
	return c;
}

static void job_spec_fill(struct cs_arena *a, struct cs_job_spec *c,
                          const struct cs_job_spec *s)
{
	*c = *s;
	c->name = dup(a, s->name);
	c->class_name = dup(a, s->class_name);
	c->request = amounts_copy(a, s->request, s->nrequest);
	c->pool = dup(a, s->pool);
	c->labels = labels_copy(a, s->labels, s->nlabels);
	c->command = dup(a, s->command);
	c->args = strings_copy(a, s->args, s->nargs);
	c->env = labels_copy(a, s->env, s->nenv);
	c->deps = strings_copy(a, s->deps, s->ndeps);
	c->cron = dup(a, s->cron);
}

struct cs_job_spec *cs_job_spec_copy(struct cs_arena *a,
                                     const struct cs_job_spec *s)
{
	struct cs_job_spec *c = alloc(a, sizeof(*c));
	job_spec_fill(a, c, s);
	return c;
}

static int label_cmp(const void *a, const void *b)
{
	return strcmp(((const struct cs_label *)a)->key,
	              ((const struct cs_label *)b)->key);
}

void cs_labels_sort(struct cs_label *l, uint32_t n)
{
	if (n > 1)
		qsort(l, n, sizeof(*l), label_cmp);
}

static void labels_free(struct cs_label *l, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		free(l[i].key);
		free(l[i].value);
	}
	free(l);
}

static void strings_free(char **s, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		free(s[i]);
	free(s);
}

static void amounts_free(struct cs_amount *x, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		free(x[i].name);
	free(x);
}

void cs_job_spec_release(struct cs_job_spec *s)
{
	free(s->name);
	free(s->class_name);
	amounts_free(s->request, s->nrequest);
	free(s->pool);
	labels_free(s->labels, s->nlabels);
	free(s->command);
	strings_free(s->args, s->nargs);
	labels_free(s->env, s->nenv);
	strings_free(s->deps, s->ndeps);
	free(s->cron);
	memset(s, 0, sizeof(*s));
}

void cs_job_spec_free(struct cs_job_spec *s)
{
	if (!s)
		return;
	cs_job_spec_release(s);
	free(s);
}

void cs_machine_spec_free(struct cs_machine_spec *s)
{
	if (!s)
		return;
	free(s->name);
	free(s->pool);
	labels_free(s->labels, s->nlabels);
	amounts_free(s->capacity, s->ncapacity);
	free(s->agent);
	free(s);
}
