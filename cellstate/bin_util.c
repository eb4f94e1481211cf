/* bin_util.c: strings and collections in the binary transaction codec,
 * shared by the framing (codec_bin.c) and the ops' own fields (op_*.c). */
#include "bin_util.h"

/* ---- writer ---- */

void cs_bput_str(struct cu_buf *w, const char *s)
{
	if (!s) {
		cu_buf_var(w, 0);
		return;
	}
	size_t n = strlen(s);
	cu_buf_var(w, (uint64_t)n + 1);
	cu_buf_add(w, s, n);
}

void cs_bput_labels(struct cu_buf *w, const struct cs_label *l, uint32_t n)
{
	cu_buf_var(w, n);
	for (uint32_t i = 0; i < n; i++) {
		cs_bput_str(w, l[i].key);
		cs_bput_str(w, l[i].value);
	}
}

void cs_bput_amounts(struct cu_buf *w, const struct cs_amount *a, uint32_t n)
{
	cu_buf_var(w, n);
	for (uint32_t i = 0; i < n; i++) {
		cs_bput_str(w, a[i].name);
		cu_buf_var(w, a[i].value);
	}
}

void cs_bput_strings(struct cu_buf *w, char *const *s, uint32_t n)
{
	cu_buf_var(w, n);
	for (uint32_t i = 0; i < n; i++)
		cs_bput_str(w, s[i]);
}

/* ---- reader ---- */

uint32_t cs_bget_count(struct cs_bdec *r, size_t min_bytes)
{
	uint32_t n = cs_bget_u32(r);
	if ((uint64_t)n * min_bytes > (uint64_t)cu_reader_left(&r->in)) {
		cs_bfail(r, "count larger than the buffer");
		return 0;
	}
	return n;
}

struct cs_label *cs_bget_labels(struct cs_bdec *r, uint32_t *n)
{
	*n = cs_bget_count(r, 2);
	struct cs_label *l =
	    *n ? cs_arena_alloc(r->arena, *n * sizeof(*l)) : NULL;
	for (uint32_t i = 0; i < *n && !r->in.err; i++) {
		l[i].key = cs_bget_str(r);
		l[i].value = cs_bget_str(r);
	}
	return l;
}

struct cs_amount *cs_bget_amounts(struct cs_bdec *r, uint32_t *n)
{
	*n = cs_bget_count(r, 2);
	struct cs_amount *a =
	    *n ? cs_arena_alloc(r->arena, *n * sizeof(*a)) : NULL;
	for (uint32_t i = 0; i < *n && !r->in.err; i++) {
		a[i].name = cs_bget_str(r);
		a[i].value = cs_bget_var(r);
	}
	return a;
}

char **cs_bget_strings(struct cs_bdec *r, uint32_t *n)
{
	*n = cs_bget_count(r, 1);
	char **s = *n ? cs_arena_alloc(r->arena, *n * sizeof(*s)) : NULL;
	for (uint32_t i = 0; i < *n && !r->in.err; i++)
		s[i] = cs_bget_str(r);
	return s;
}
