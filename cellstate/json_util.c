/* json_util.c: path-tracking JSON getters and encoders shared by the
 * codecs, and the "PATH: expected ..." wording shared with validate.c. */
#include "json_util.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The wording in json_util.h spells these numbers out. */
_Static_assert(CS_RES_VALUE_MAX == 1000000000000000ull, "CS_EXPECT_POSITIVE");
_Static_assert(CS_STRING_MAX == 4096, "CS_EXPECT_COMMAND, CS_EXPECT_STRING");
_Static_assert(CS_TXN_OPS_MAX == 1000000, "CS_EXPECT_OPS");
_Static_assert(CS_JSON_INT_MAX == 9223372036854775807ull, "CS_EXPECT_MEMBER");
_Static_assert(CS_NOTE_MAX == 512, "CS_EXPECT_NOTE");
_Static_assert(CS_AGENT_MAX == 127, "CS_EXPECT_AGENT");

#define CLIP_KEY   64 /* key bytes kept in a path */
#define CLIP_VALUE 40 /* value bytes quoted in a message */

/* ---- paths ---- */

static bool printable(unsigned char c)
{
	return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

char *cs_jclip(char *buf, size_t n, const char *s)
{
	size_t len = strlen(s), keep = len < n ? len : n - 4;
	for (size_t i = 0; i < keep; i++)
		buf[i] = printable((unsigned char)s[i]) ? s[i] : '?';
	if (keep < len) {
		memcpy(buf + keep, "...", 3);
		keep += 3;
	}
	buf[keep] = 0;
	return buf;
}

/* Appends n bytes; when they do not fit, the path ends in "...". */
static void append(struct cs_jpath *p, const char *s, size_t n)
{
	size_t room = sizeof(p->buf) - 1 - p->len;
	if (n <= room) {
		memcpy(p->buf + p->len, s, n);
		p->len += n;
	} else {
		memcpy(p->buf + p->len, s, room);
		p->len = sizeof(p->buf) - 1;
		memcpy(p->buf + p->len - 3, "...", 3);
	}
	p->buf[p->len] = 0;
}

void cs_jpath_init(struct cs_jpath *p, const char *prefix)
{
	p->len = 0;
	p->buf[0] = 0;
	if (prefix)
		append(p, prefix, strlen(prefix));
}

size_t cs_jpath_key(struct cs_jpath *p, const char *key)
{
	size_t saved = p->len;
	char clipped[CLIP_KEY + 4];
	cs_jclip(clipped, sizeof(clipped), key);
	if (p->len)
		append(p, ".", 1);
	append(p, clipped, strlen(clipped));
	return saved;
}

size_t cs_jpath_index(struct cs_jpath *p, size_t i)
{
	size_t saved = p->len;
	char tmp[32];
	int n = snprintf(tmp, sizeof(tmp), "[%zu]", i);
	append(p, tmp, (size_t)n);
	return saved;
}

void cs_jpath_pop(struct cs_jpath *p, size_t saved)
{
	if (saved < p->len) {
		p->len = saved;
		p->buf[saved] = 0;
	}
}

const char *cs_jpath_str(const struct cs_jpath *p)
{
	return p->len ? p->buf : "(root)";
}

/* ---- errors ---- */

void cs_jdec_init(struct cs_jdec *d, const char *prefix, char *errbuf,
                  size_t errlen)
{
	cs_jpath_init(&d->path, prefix);
	d->errbuf = errbuf;
	d->errlen = errlen;
}

static int CS_PRINTF(2, 0) verr(struct cs_jdec *d, const char *fmt, va_list ap)
{
	char msg[CS_ERRMSG_SIZE];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	return cu_errf(d->errbuf, d->errlen, -1, "%s: %s",
	               cs_jpath_str(&d->path), msg);
}

int cs_jerr(struct cs_jdec *d, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	verr(d, fmt, ap);
	va_end(ap);
	return -1;
}

int cs_jerr_at(struct cs_jdec *d, const char *key, const char *fmt, ...)
{
	size_t saved = cs_jpath_key(&d->path, key);
	va_list ap;
	va_start(ap, fmt);
	verr(d, fmt, ap);
	va_end(ap);
	cs_jpath_pop(&d->path, saved);
	return -1;
}

/* ---- UTF-8 ---- */

/* Length of the sequence a lead byte starts (0: not a lead byte), with the
 * bits it carries and the smallest code point that needs that length. */
static size_t utf8_lead(unsigned c, uint32_t *cp, uint32_t *min)
{
	size_t k = 0;
	if (c >= 0xc2 && c <= 0xdf) {
		k = 2;
		*cp = c & 0x1f;
		*min = 0x80;
	} else if ((c & 0xf0) == 0xe0) {
		k = 3;
		*cp = c & 0x0f;
		*min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		k = 4;
		*cp = c & 0x07;
		*min = 0x10000;
	}
	return k;
}

bool cs_jutf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	while (p < end) {
		uint32_t cp, min;
		size_t k = *p < 0x80 ? 1 : utf8_lead(*p, &cp, &min);
		if (k == 0 || (size_t)(end - p) < k)
			return false;
		if (k == 1) {
			p++;
			continue;
		}
		for (size_t i = 1; i < k; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (p[i] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		p += k;
	}
	return true;
}

static bool free_string_valid(const char *s, size_t min)
{
	size_t n = strlen(s);
	return n >= min && n <= CS_STRING_MAX && cs_jutf8_valid(s, n);
}

bool cs_jcommand_valid(const char *s)
{
	return free_string_valid(s, 1);
}

bool cs_jstring_valid(const char *s)
{
	return free_string_valid(s, 0);
}

/* C0 (with DEL) as bytes; C1 (U+0080..U+009F) as their UTF-8 form, which
 * some terminals also obey (CSI is U+009B). */
static bool has_control(const unsigned char *p)
{
	for (; *p; p++)
		if (*p < 0x20 || *p == 0x7f ||
		    (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f))
			return true;
	return false;
}

bool cs_jnote_valid(const char *s)
{
	size_t n = strlen(s);
	return n <= CS_NOTE_MAX && cs_jutf8_valid(s, n) &&
	       !has_control((const unsigned char *)s);
}

/* ---- checks of C values ---- */

/* How a bad string value is shown: quoted when short, else its size. */
static const char *show_str(char *buf, size_t n, const char *s)
{
	size_t len = strlen(s);
	char clipped[CLIP_VALUE + 1];
	if (len > CLIP_VALUE)
		snprintf(buf, n, "a string of %zu bytes", len);
	else
		snprintf(buf, n, "\"%s\"",
		         cs_jclip(clipped, sizeof(clipped), s));
	return buf;
}

int cs_jcheck_str(struct cs_jdec *d, const char *s, bool (*valid)(const char *),
                  const char *expect)
{
	char shown[CLIP_VALUE + 32];
	if (!s)
		return cs_jerr(d, CS_MISSING);
	if (valid && !valid(s))
		return cs_jerr(d, "expected %s, got %s", expect,
		               show_str(shown, sizeof(shown), s));
	return 0;
}

static const char *urange(char *buf, size_t n, uint64_t lo, uint64_t hi,
                          const char *expect)
{
	if (expect)
		return expect;
	snprintf(buf, n, "an integer %" PRIu64 "..%" PRIu64, lo, hi);
	return buf;
}

static const char *irange(char *buf, size_t n, int64_t lo, int64_t hi,
                          const char *expect)
{
	if (expect)
		return expect;
	snprintf(buf, n, "an integer %" PRId64 "..%" PRId64, lo, hi);
	return buf;
}

int cs_jcheck_u64(struct cs_jdec *d, uint64_t v, uint64_t lo, uint64_t hi,
                  const char *expect)
{
	char buf[64];
	if (v >= lo && v <= hi)
		return 0;
	return cs_jerr(d, "expected %s, got %" PRIu64,
	               urange(buf, sizeof(buf), lo, hi, expect), v);
}

int cs_jcheck_i64(struct cs_jdec *d, int64_t v, int64_t lo, int64_t hi,
                  const char *expect)
{
	char buf[64];
	if (v >= lo && v <= hi)
		return 0;
	return cs_jerr(d, "expected %s, got %" PRId64,
	               irange(buf, sizeof(buf), lo, hi, expect), v);
}

/* ---- value-level getters ---- */

const char *cs_json_type_name(const json_t *v)
{
	if (!v)
		return "nothing"; /* a decoder handed NULL */
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a real number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		break;
	}
	return "null";
}

int cs_jv_object(struct cs_jdec *d, const json_t *v, const char *what)
{
	if (json_is_object(v))
		return 0;
	return cs_jerr(d, "expected %s, got %s", what, cs_json_type_name(v));
}

int cs_jv_str(struct cs_jdec *d, const json_t *v, bool (*valid)(const char *),
              const char *expect, const char **out)
{
	if (!json_is_string(v))
		return cs_jerr(d, "expected %s, got %s", expect,
		               cs_json_type_name(v));
	const char *s = json_string_value(v);
	size_t n = json_string_length(v);
	/* jansson can hold both (json_stringn, _nocheck); C strings cannot. */
	if (strlen(s) != n)
		return cs_jerr(d, "expected %s, got a string with a NUL byte",
		               expect);
	if (!cs_jutf8_valid(s, n))
		return cs_jerr(d, "expected %s, got a string that is not UTF-8",
		               expect);
	if (cs_jcheck_str(d, s, valid, expect) < 0)
		return -1;
	*out = s;
	return 0;
}

int cs_jv_u64(struct cs_jdec *d, const json_t *v, uint64_t lo, uint64_t hi,
              const char *expect, uint64_t *out)
{
	char buf[64];
	expect = urange(buf, sizeof(buf), lo, hi, expect);
	if (!json_is_integer(v))
		return cs_jerr(d, "expected %s, got %s", expect,
		               cs_json_type_name(v));
	json_int_t i = json_integer_value(v);
	if (i < 0)
		return cs_jerr(d, "expected %s, got %" JSON_INTEGER_FORMAT,
		               expect, i);
	if (cs_jcheck_u64(d, (uint64_t)i, lo, hi, expect) < 0)
		return -1;
	*out = (uint64_t)i;
	return 0;
}

int cs_jv_i64(struct cs_jdec *d, const json_t *v, int64_t lo, int64_t hi,
              const char *expect, int64_t *out)
{
	char buf[64];
	expect = irange(buf, sizeof(buf), lo, hi, expect);
	if (!json_is_integer(v))
		return cs_jerr(d, "expected %s, got %s", expect,
		               cs_json_type_name(v));
	int64_t i = json_integer_value(v);
	if (cs_jcheck_i64(d, i, lo, hi, expect) < 0)
		return -1;
	*out = i;
	return 0;
}

static int jv_bool(struct cs_jdec *d, const json_t *v, bool *out)
{
	if (!json_is_boolean(v))
		return cs_jerr(d, "expected true or false, got %s",
		               cs_json_type_name(v));
	*out = json_is_true(v);
	return 0;
}

/* "a, b, c" into buf (cut when it does not fit). */
static const char *join(char *buf, size_t size, const char *const *names,
                        size_t n)
{
	size_t len = 0;
	buf[0] = 0;
	for (size_t i = 0; i < n && len < size; i++) {
		int w = snprintf(buf + len, size - len, "%s%s", i ? ", " : "",
		                 names[i]);
		len += w > 0 ? (size_t)w : 0;
	}
	return buf;
}

static int jv_enum(struct cs_jdec *d, const json_t *v, const char *const *names,
                   size_t n, int *out)
{
	char list[CS_ERRMSG_SIZE], shown[CLIP_VALUE + 32];
	const char *got = cs_json_type_name(v);
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		/* A string with a NUL inside matches no name. */
		bool whole = strlen(s) == json_string_length(v);
		for (size_t i = 0; i < n && whole; i++) {
			if (!strcmp(s, names[i])) {
				*out = (int)i;
				return 0;
			}
		}
		got = show_str(shown, sizeof(shown), s);
	}
	/* The list is built only here: ops decode this field a million times.
	 */
	return cs_jerr(d, "expected one of: %s, got %s",
	               join(list, sizeof(list), names, n), got);
}

/* ---- keyed getters: look the key up, check the value at PATH.key ---- */

static int enter(struct cs_jdec *d, const json_t *obj, const char *key,
                 enum cs_jneed need, const json_t **v, size_t *saved)
{
	*saved = d->path.len;
	*v = json_object_get(obj, key);
	if (!*v)
		return need == CS_JREQ ? cs_jerr_at(d, key, CS_MISSING) : 0;
	cs_jpath_key(&d->path, key);
	return 1;
}

static int leave(struct cs_jdec *d, size_t saved, int r)
{
	cs_jpath_pop(&d->path, saved);
	return r < 0 ? -1 : 1;
}

int cs_jget_object(struct cs_jdec *d, const json_t *obj, const char *key,
                   enum cs_jneed need, const char *what, const json_t **out)
{
	const json_t *v;
	size_t saved;
	int r = enter(d, obj, key, need, &v, &saved);
	if (r <= 0)
		return r;
	r = cs_jv_object(d, v, what);
	if (r == 0)
		*out = v;
	return leave(d, saved, r);
}

static int jv_array(struct cs_jdec *d, const json_t *v, size_t lo, size_t hi,
                    const char *expect)
{
	if (!json_is_array(v))
		return cs_jerr(d, "expected %s, got %s", expect,
		               cs_json_type_name(v));
	size_t n = json_array_size(v);
	if (n == 0 && lo > 0)
		return cs_jerr(d, "expected %s, got an empty array", expect);
	if (n < lo || n > hi)
		return cs_jerr(d, "expected %s, got %zu entries", expect, n);
	return 0;
}

int cs_jget_array(struct cs_jdec *d, const json_t *obj, const char *key,
                  enum cs_jneed need, size_t lo, size_t hi, const char *expect,
                  const json_t **out)
{
	const json_t *v;
	size_t saved;
	int r = enter(d, obj, key, need, &v, &saved);
	if (r <= 0)
		return r;
	r = jv_array(d, v, lo, hi, expect);
	if (r == 0)
		*out = v;
	return leave(d, saved, r);
}

int cs_jget_str(struct cs_jdec *d, const json_t *obj, const char *key,
                enum cs_jneed need, bool (*valid)(const char *),
                const char *expect, const char **out)
{
	const json_t *v;
	size_t saved;
	int r = enter(d, obj, key, need, &v, &saved);
	if (r <= 0)
		return r;
	return leave(d, saved, cs_jv_str(d, v, valid, expect, out));
}

int cs_jget_u64(struct cs_jdec *d, const json_t *obj, const char *key,
                enum cs_jneed need, uint64_t lo, uint64_t hi,
                const char *expect, uint64_t *out)
{
	const json_t *v;
	size_t saved;
	int r = enter(d, obj, key, need, &v, &saved);
	if (r <= 0)
		return r;
	return leave(d, saved, cs_jv_u64(d, v, lo, hi, expect, out));
}

int cs_jget_u32(struct cs_jdec *d, const json_t *obj, const char *key,
                enum cs_jneed need, uint32_t lo, uint32_t hi,
                const char *expect, uint32_t *out)
{
	uint64_t v;
	int r = cs_jget_u64(d, obj, key, need, lo, hi, expect, &v);
	if (r == 1)
		*out = (uint32_t)v;
	return r;
}

int cs_jget_i64(struct cs_jdec *d, const json_t *obj, const char *key,
                enum cs_jneed need, int64_t lo, int64_t hi, const char *expect,
                int64_t *out)
{
	const json_t *v;
	size_t saved;
	int r = enter(d, obj, key, need, &v, &saved);
	if (r <= 0)
		return r;
	return leave(d, saved, cs_jv_i64(d, v, lo, hi, expect, out));
}

int cs_jget_bool(struct cs_jdec *d, const json_t *obj, const char *key,
                 enum cs_jneed need, bool *out)
{
	const json_t *v;
	size_t saved;
	int r = enter(d, obj, key, need, &v, &saved);
	if (r <= 0)
		return r;
	return leave(d, saved, jv_bool(d, v, out));
}

int cs_jget_enum(struct cs_jdec *d, const json_t *obj, const char *key,
                 enum cs_jneed need, const char *const *names, size_t n,
                 int *out)
{
	const json_t *v;
	size_t saved;
	int r = enter(d, obj, key, need, &v, &saved);
	if (r <= 0)
		return r;
	return leave(d, saved, jv_enum(d, v, names, n, out));
}

static size_t count_names(const char *const *names)
{
	size_t n = 0;
	while (names[n])
		n++;
	return n;
}

static bool listed(const char *key, const char *const *names)
{
	for (; *names; names++)
		if (!strcmp(key, *names))
			return true;
	return false;
}

int cs_jcheck_fields(struct cs_jdec *d, const json_t *obj,
                     const char *const *allowed)
{
	char list[CS_ERRMSG_SIZE];
	const char *key;
	json_t *v;
	/* jansson's iteration macro is not const-correct; it only reads. */
	json_object_foreach ((json_t *)obj, key, v) {
		if (listed(key, allowed))
			continue;
		join(list, sizeof(list), allowed, count_names(allowed));
		return cs_jerr_at(d, key, "unknown field (expected one of: %s)",
		                  list);
	}
	return 0;
}

/* ---- collections ---- */

static void *jalloc(struct cs_arena *a, size_t n)
{
	return a ? cs_arena_alloc(a, n) : cu_xcalloc(1, n);
}

static char *jdup(struct cs_arena *a, const char *s)
{
	return a ? cs_arena_strdup(a, s) : cu_xstrdup(s);
}

const struct cs_jmap_rules cs_jlabel_rules = {
    CS_LABELS_MAX,        "labels",
    cs_label_key_valid,   CS_EXPECT_LABEL_KEY,
    cs_label_value_valid, CS_EXPECT_LABEL_VALUE,
};

const struct cs_jmap_rules cs_jenv_rules = {
    CS_ENV_MAX,         "environment variables", cs_env_name_valid,
    CS_EXPECT_ENV_NAME, cs_jstring_valid,        CS_EXPECT_STRING,
};

/* Checks every key and value of a map object before anything is copied. */
static int map_check(struct cs_jdec *d, const json_t *v,
                     const struct cs_jmap_rules *r)
{
	const char *key, *s;
	json_t *val;
	if (!json_is_object(v))
		return cs_jerr(d, "expected an object of %s, got %s", r->noun,
		               cs_json_type_name(v));
	if (json_object_size(v) > r->max)
		return cs_jerr(d, "expected at most %u %s, got %zu", r->max,
		               r->noun, json_object_size(v));
	json_object_foreach ((json_t *)v, key, val) {
		size_t saved = cs_jpath_key(&d->path, key);
		int bad =
		    cs_jcheck_str(d, key, r->key_ok, r->key_expect) < 0 ||
		    cs_jv_str(d, val, r->value_ok, r->value_expect, &s) < 0;
		cs_jpath_pop(&d->path, saved);
		if (bad)
			return -1;
	}
	return 0;
}

int cs_jget_labels(struct cs_jdec *d, const json_t *obj, const char *key,
                   enum cs_jneed need, const struct cs_jmap_rules *rules,
                   struct cs_arena *a, struct cs_label **out, uint32_t *n)
{
	const json_t *v;
	size_t saved;
	int r = enter(d, obj, key, need, &v, &saved);
	if (r <= 0)
		return r;
	if (leave(d, saved, map_check(d, v, rules)) < 0)
		return -1;
	uint32_t count = (uint32_t)json_object_size(v), i = 0;
	struct cs_label *l = count ? jalloc(a, count * sizeof(*l)) : NULL;
	const char *k;
	json_t *val;
	json_object_foreach ((json_t *)v, k, val) {
		l[i].key = jdup(a, k);
		l[i++].value = jdup(a, json_string_value(val));
	}
	cs_labels_sort(l, count);
	*out = l;
	*n = count;
	return 1;
}

static const char *const amounts_required[] = {"cpu", "memory", NULL};
const struct cs_jamount_rules cs_jcapacity_rules = {amounts_required, 0};
const struct cs_jamount_rules cs_jrequest_rules = {amounts_required, 1};

static bool required_amount(const struct cs_jamount_rules *r, const char *name)
{
	return r->required && listed(name, r->required);
}

static int amounts_check(struct cs_jdec *d, const json_t *v,
                         const struct cs_jamount_rules *r)
{
	const char *key;
	json_t *val;
	uint64_t x;
	if (!json_is_object(v))
		return cs_jerr(d,
		               "expected an object of resource amounts, got %s",
		               cs_json_type_name(v));
	if (json_object_size(v) > CS_RES_MAX)
		return cs_jerr(d, "expected at most %d resources, got %zu",
		               CS_RES_MAX, json_object_size(v));
	json_object_foreach ((json_t *)v, key, val) {
		bool pos = required_amount(r, key) && r->required_min > 0;
		size_t saved = cs_jpath_key(&d->path, key);
		int bad = cs_jcheck_str(d, key, cs_res_name_valid,
		                        CS_EXPECT_RES_NAME) < 0 ||
		          cs_jv_u64(d, val, pos ? r->required_min : 0,
		                    CS_RES_VALUE_MAX,
		                    pos ? CS_EXPECT_POSITIVE : NULL, &x) < 0;
		cs_jpath_pop(&d->path, saved);
		if (bad)
			return -1;
	}
	for (const char *const *req = r->required; req && *req; req++)
		if (!json_object_get(v, *req))
			return cs_jerr_at(d, *req, CS_MISSING);
	return 0;
}

/* cpu, memory, disk, then the others by name. */
static int amount_rank(const char *name)
{
	static const char *const fixed[] = {"cpu", "memory", "disk"};
	for (int i = 0; i < 3; i++)
		if (!strcmp(name, fixed[i]))
			return i;
	return 3;
}

static int amount_cmp(const void *a, const void *b)
{
	const char *x = ((const struct cs_amount *)a)->name;
	const char *y = ((const struct cs_amount *)b)->name;
	int rx = amount_rank(x), ry = amount_rank(y);
	return rx != ry ? rx - ry : strcmp(x, y);
}

int cs_jget_amounts(struct cs_jdec *d, const json_t *obj, const char *key,
                    enum cs_jneed need, const struct cs_jamount_rules *rules,
                    struct cs_arena *a, struct cs_amount **out, uint32_t *n)
{
	const json_t *v;
	size_t saved;
	int r = enter(d, obj, key, need, &v, &saved);
	if (r <= 0)
		return r;
	if (leave(d, saved, amounts_check(d, v, rules)) < 0)
		return -1;
	uint32_t count = (uint32_t)json_object_size(v), i = 0;
	struct cs_amount *am = count ? jalloc(a, count * sizeof(*am)) : NULL;
	const char *k;
	json_t *val;
	json_object_foreach ((json_t *)v, k, val) {
		am[i].name = jdup(a, k);
		am[i++].value = (uint64_t)json_integer_value(val);
	}
	if (count)
		qsort(am, count, sizeof(*am), amount_cmp);
	*out = am;
	*n = count;
	return 1;
}

const struct cs_jlist_rules cs_jargs_rules = {
    CS_ARGS_MAX, "arguments", cs_jstring_valid, CS_EXPECT_STRING};
const struct cs_jlist_rules cs_jdeps_rules = {CS_DEPS_MAX, "jobs",
                                              cs_name_valid, CS_EXPECT_JOB};

static int strings_check(struct cs_jdec *d, const json_t *v,
                         const struct cs_jlist_rules *r)
{
	const char *s;
	if (!json_is_array(v))
		return cs_jerr(d, "expected an array of %s, got %s", r->noun,
		               cs_json_type_name(v));
	if (json_array_size(v) > r->max)
		return cs_jerr(d, "expected at most %u %s, got %zu", r->max,
		               r->noun, json_array_size(v));
	for (size_t i = 0; i < json_array_size(v); i++) {
		size_t saved = cs_jpath_index(&d->path, i);
		int bad = cs_jv_str(d, json_array_get(v, i), r->valid,
		                    r->expect, &s) < 0;
		cs_jpath_pop(&d->path, saved);
		if (bad)
			return -1;
	}
	return 0;
}

int cs_jget_strings(struct cs_jdec *d, const json_t *obj, const char *key,
                    enum cs_jneed need, const struct cs_jlist_rules *rules,
                    struct cs_arena *a, char ***out, uint32_t *n)
{
	const json_t *v;
	size_t saved;
	int r = enter(d, obj, key, need, &v, &saved);
	if (r <= 0)
		return r;
	if (leave(d, saved, strings_check(d, v, rules)) < 0)
		return -1;
	uint32_t count = (uint32_t)json_array_size(v);
	char **s = count ? jalloc(a, count * sizeof(*s)) : NULL;
	for (uint32_t i = 0; i < count; i++)
		s[i] = jdup(a, json_string_value(json_array_get(v, i)));
	*out = s;
	*n = count;
	return 1;
}

/* ---- parsing ---- */

static bool blank(const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!strchr(" \t\r\n", buf[i]) || !buf[i])
			return false;
	return true;
}

/* jansson quotes the input near the error: keep the message printable. */
static void printable_msg(char *s)
{
	for (; s && *s; s++)
		if (!(*s == ' ' || *s == '"' || *s == '\\' ||
		      printable((unsigned char)*s)))
			*s = '?';
}

int cs_jparse(const char *buf, size_t len, const char *what, json_t **out,
              char *errbuf, size_t errlen)
{
	json_error_t e;
	if (!buf || blank(buf, len))
		return cu_errf(errbuf, errlen, -1,
		               "(root): expected %s, got empty "
		               "input",
		               what);
	/* DECODE_ANY: a scalar at the top gets our "expected an object"
	 * message instead of jansson's. */
	json_t *j =
	    json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &e);
	if (!j) {
		cu_errf(errbuf, errlen, -1, "line %d, column %d: %s", e.line,
		        e.column, e.text);
		if (errbuf && errlen)
			printable_msg(errbuf);
		return -1;
	}
	*out = j;
	return 0;
}

/* ---- encoding ---- */

json_t *cs_jnew(json_t *v)
{
	if (!v) {
		/* jansson fails only on exhaustion here: see cellstate.h. */
		fprintf(stderr, "cellstate: out of memory building JSON\n");
		abort();
	}
	return v;
}

/* A copy of s with every non-ASCII byte as '?': only for strings that are
 * not UTF-8, which validation rejects, so the loss never hits valid input. */
static char *scrub(const char *s)
{
	char *c = cu_xstrdup(s);
	for (char *p = c; *p; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	return c;
}

json_t *cs_jstring(const char *s)
{
	if (cs_jutf8_valid(s, strlen(s)))
		return cs_jnew(json_string_nocheck(s));
	char *c = scrub(s);
	json_t *v = cs_jnew(json_string_nocheck(c));
	free(c);
	return v;
}

void cs_jset(json_t *obj, const char *key, json_t *v)
{
	if (cs_jutf8_valid(key, strlen(key))) {
		if (json_object_set_new_nocheck(obj, key, v) < 0)
			cs_jnew(NULL);
		return;
	}
	char *c = scrub(key);
	if (json_object_set_new_nocheck(obj, c, v) < 0)
		cs_jnew(NULL);
	free(c);
}

void cs_jappend(json_t *arr, json_t *v)
{
	if (json_array_append_new(arr, v) < 0)
		cs_jnew(NULL);
}

void cs_jset_str(json_t *obj, const char *key, const char *s)
{
	if (s)
		cs_jset(obj, key, cs_jstring(s));
}

void cs_jset_u64(json_t *obj, const char *key, uint64_t v)
{
	if (v > CS_JSON_INT_MAX)
		v = CS_JSON_INT_MAX;
	cs_jset(obj, key, cs_jnew(json_integer((json_int_t)v)));
}

void cs_jset_i64(json_t *obj, const char *key, int64_t v)
{
	cs_jset(obj, key, cs_jnew(json_integer(v)));
}

void cs_jset_bool(json_t *obj, const char *key, bool v)
{
	cs_jset(obj, key, cs_jnew(json_boolean(v)));
}

json_t *cs_jlabels(const struct cs_label *l, uint32_t n)
{
	json_t *o = cs_jnew(json_object());
	for (uint32_t i = 0; i < n; i++)
		cs_jset_str(o, l[i].key ? l[i].key : "",
		            l[i].value ? l[i].value : "");
	return o;
}

json_t *cs_jamounts(const struct cs_amount *a, uint32_t n)
{
	json_t *o = cs_jnew(json_object());
	for (uint32_t i = 0; i < n; i++)
		cs_jset_u64(o, a[i].name, a[i].value);
	return o;
}

json_t *cs_jstrings(char *const *s, uint32_t n)
{
	json_t *arr = cs_jnew(json_array());
	for (uint32_t i = 0; i < n; i++)
		cs_jappend(arr, cs_jstring(s[i] ? s[i] : ""));
	return arr;
}
