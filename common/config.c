/* config.c: one table of settings parses flags, a config file and --help. */
#include "internal.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define QUOTE_MAX 64 /* longest piece of user input echoed in a message */

/* ---- value parsers ---------------------------------------------------- */

static bool mul_ok(uint64_t a, uint64_t b, uint64_t *out)
{
	if (b && a > UINT64_MAX / b)
		return false;
	*out = a * b;
	return true;
}

static bool add_ok(uint64_t a, uint64_t b, uint64_t *out)
{
	if (a > UINT64_MAX - b)
		return false;
	*out = a + b;
	return true;
}

/* Decimal digits at *p (at least one) into *out; advances *p. */
static bool parse_digits(const char **p, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;
	if (!isdigit((unsigned char)*s))
		return false;
	for (; isdigit((unsigned char)*s); s++)
		if (!mul_ok(v, 10, &v) || !add_ok(v, (uint64_t)(*s - '0'), &v))
			return false;
	*p = s;
	*out = v;
	return true;
}

static int parse_uint(const char *s, uint64_t *out)
{
	uint64_t v;
	if (!parse_digits(&s, &v) || *s)
		return CC_EINVAL;
	*out = v;
	return 0;
}

static int parse_int(const char *s, int64_t *out)
{
	bool neg = *s == '-';
	uint64_t v;
	if (neg || *s == '+')
		s++;
	if (!parse_digits(&s, &v) || *s)
		return CC_EINVAL;
	if (neg ? v > (uint64_t)INT64_MAX + 1 : v > (uint64_t)INT64_MAX)
		return CC_EINVAL;
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return 0;
}

int cc_parse_bool(const char *s, bool *v)
{
	static const char *const yes[] = {"true", "yes", "on", "1"};
	static const char *const no[] = {"false", "no", "off", "0"};
	for (size_t i = 0; i < CC_ARRAY_LEN(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*v = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*v = false;
			return 0;
		}
	}
	return CC_EINVAL;
}

/* One "<digits>[.<digits>]<unit>" part of a duration, in microseconds. */
static bool duration_part(const char **p, uint64_t *us)
{
	uint64_t whole, frac = 0, scale = 1, unit;
	if (!parse_digits(p, &whole))
		return false;
	if (**p == '.') {
		(*p)++;
		if (!isdigit((unsigned char)**p))
			return false;
		for (; isdigit((unsigned char)**p); (*p)++) {
			if (scale >= 1000000000)
				return false; /* finer than any unit here */
			frac = frac * 10 + (uint64_t)(**p - '0');
			scale *= 10;
		}
	}
	if (strncmp(*p, "us", 2) == 0)
		unit = 1, *p += 2;
	else if (strncmp(*p, "ms", 2) == 0)
		unit = 1000, *p += 2;
	else if (**p == 'h')
		unit = 3600000000ull, (*p)++;
	else if (**p == 'm')
		unit = 60000000ull, (*p)++;
	else if (**p == 's')
		unit = 1000000, (*p)++;
	else
		return false;
	/* a fraction must come out in whole microseconds */
	if ((frac * unit) % scale)
		return false;
	return mul_ok(whole, unit, us) && add_ok(*us, frac * unit / scale, us);
}

int cc_parse_duration_us(const char *s, uint64_t *us)
{
	if (strcmp(s, "0") == 0) {
		*us = 0;
		return 0;
	}
	uint64_t total = 0, part;
	if (!*s)
		return CC_EINVAL;
	while (*s) {
		if (!duration_part(&s, &part) || !add_ok(total, part, &total))
			return CC_EINVAL;
	}
	*us = total;
	return 0;
}

int cc_parse_duration_ms(const char *s, uint64_t *ms)
{
	uint64_t us;
	/* "0.5ms" and "300us" are refused: the value must be whole ms */
	if (cc_parse_duration_us(s, &us) || us % 1000)
		return CC_EINVAL;
	*ms = us / 1000;
	return 0;
}

int cc_parse_size(const char *s, uint64_t *bytes)
{
	static const struct {
		const char *suffix;
		uint64_t mult;
	} units[] = {
	    {"", 1},
	    {"b", 1},
	    {"k", 1000},
	    {"kb", 1000},
	    {"ki", 1ull << 10},
	    {"kib", 1ull << 10},
	    {"m", 1000000},
	    {"mb", 1000000},
	    {"mi", 1ull << 20},
	    {"mib", 1ull << 20},
	    {"g", 1000000000},
	    {"gb", 1000000000},
	    {"gi", 1ull << 30},
	    {"gib", 1ull << 30},
	    {"t", 1000000000000ull},
	    {"tb", 1000000000000ull},
	    {"ti", 1ull << 40},
	    {"tib", 1ull << 40},
	};
	uint64_t n;
	if (!parse_digits(&s, &n))
		return CC_EINVAL;
	for (size_t i = 0; i < CC_ARRAY_LEN(units); i++)
		if (strcasecmp(s, units[i].suffix) == 0)
			return mul_ok(n, units[i].mult, bytes) ? 0 : CC_EINVAL;
	return CC_EINVAL;
}

/* ---- formatting values back, for messages and --help ------------------ */

static void format_duration(char *out, size_t size, uint64_t us)
{
	static const struct {
		uint64_t us;
		const char *unit;
	} units[] = {{3600000000ull, "h"},
	             {60000000, "m"},
	             {1000000, "s"},
	             {1000, "ms"},
	             {1, "us"}};
	if (us == 0) {
		snprintf(out, size, "0");
		return;
	}
	for (size_t i = 0; i < CC_ARRAY_LEN(units); i++) {
		if (us % units[i].us == 0) {
			snprintf(out, size, "%" PRIu64 "%s", us / units[i].us,
			         units[i].unit);
			return;
		}
	}
}

static void format_size(char *out, size_t size, uint64_t bytes)
{
	static const char *const units[] = {"TiB", "GiB", "MiB", "KiB"};
	for (size_t i = 0; i < CC_ARRAY_LEN(units); i++) {
		unsigned shift = 40 - 10 * (unsigned)i;
		if (bytes && bytes % (1ull << shift) == 0) {
			snprintf(out, size, "%" PRIu64 "%s", bytes >> shift,
			         units[i]);
			return;
		}
	}
	snprintf(out, size, "%" PRIu64, bytes);
}

static void format_in_unit(const struct cc_flag *f, char *out, size_t size,
                           uint64_t v)
{
	if (f->type == CC_FLAG_DURATION)
		format_duration(out, size, v * 1000);
	else if (f->type == CC_FLAG_DURATION_US)
		format_duration(out, size, v);
	else if (f->type == CC_FLAG_SIZE)
		format_size(out, size, v);
	else
		snprintf(out, size, "%" PRIu64, v);
}

/* User input echoed in a message: quoted, control bytes escaped, cut. */
static void quote(char *out, size_t size, const char *s)
{
	size_t n = 0;
	out[n++] = '"';
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (n + 8 >= size ||
		    p - (const unsigned char *)s >= QUOTE_MAX) {
			n += (size_t)snprintf(out + n, size - n, "...");
			break;
		}
		if (*p < 0x20 || *p == 0x7f || *p == '"' || *p == '\\')
			n += (size_t)snprintf(out + n, size - n, "\\x%02x", *p);
		else
			out[n++] = (char)*p;
	}
	snprintf(out + n, size - n, "\"");
}

/* ---- one value for one flag ------------------------------------------- */

static const char *const type_names[] = {"TEXT",     "INT",  "N",       "",
                                         "DURATION", "SIZE", "DURATION"};
/* one name per enum cc_flag_type (so are what[] and noun[] in describe) */
_Static_assert(CC_ARRAY_LEN(type_names) == CC_FLAG_DURATION_US + 1,
               "type_names: a name per flag type");

/* What a value of this flag looks like, for "expected ..." messages. */
static void describe(const struct cc_flag *f, char *out, size_t size)
{
	static const char *const what[] = {
	    "text",
	    "an integer",
	    "a whole number",
	    "true or false",
	    "a duration like 300ms or 2s",
	    "a size like 512KiB or 4MiB",
	    "a duration like 250us, 300ms or 2s"};
	static const char *const noun[] = {
	    "", "", "a whole number", "", "a duration", "a size", "a duration"};
	char lo[32], hi[32];
	bool ranged = f->type == CC_FLAG_UINT || f->type == CC_FLAG_DURATION ||
	              f->type == CC_FLAG_DURATION_US || f->type == CC_FLAG_SIZE;
	if (!ranged || (f->min == 0 && f->max == 0)) {
		snprintf(out, size, "%s", what[f->type]);
		return;
	}
	format_in_unit(f, lo, sizeof(lo), f->min);
	format_in_unit(f, hi, sizeof(hi), f->max);
	if (f->max)
		snprintf(out, size, "%s from %s to %s", noun[f->type], lo, hi);
	else
		snprintf(out, size, "%s of at least %s", noun[f->type], lo);
}

union value {
	const char *s;
	int64_t i;
	uint64_t u;
	bool b;
};

/* Parses s for flag f into *v; on failure writes "expected ..., got ..."
 * into why. */
static int parse_value(const struct cc_flag *f, const char *s, union value *v,
                       char *why, size_t whylen)
{
	int rc = 0;
	switch (f->type) {
	case CC_FLAG_STRING:
		v->s = s;
		return 0;
	case CC_FLAG_INT:
		rc = parse_int(s, &v->i);
		break;
	case CC_FLAG_UINT:
		rc = parse_uint(s, &v->u);
		break;
	case CC_FLAG_BOOL:
		rc = cc_parse_bool(s, &v->b);
		break;
	case CC_FLAG_DURATION:
		rc = cc_parse_duration_ms(s, &v->u);
		break;
	case CC_FLAG_DURATION_US:
		rc = cc_parse_duration_us(s, &v->u);
		break;
	case CC_FLAG_SIZE:
		rc = cc_parse_size(s, &v->u);
		break;
	}
	bool ranged = f->type == CC_FLAG_UINT || f->type == CC_FLAG_DURATION ||
	              f->type == CC_FLAG_DURATION_US || f->type == CC_FLAG_SIZE;
	if (rc == 0 && ranged && (v->u < f->min || (f->max && v->u > f->max)))
		rc = CC_EINVAL;
	if (rc) {
		char expected[128], got[QUOTE_MAX * 4 + 8];
		describe(f, expected, sizeof(expected));
		quote(got, sizeof(got), s);
		return cu_errf(why, whylen, CC_EINVAL, "expected %s, got %s",
		               expected, got);
	}
	return 0;
}

static void store(const struct cc_flag *f, const union value *v)
{
	switch (f->type) {
	case CC_FLAG_STRING: {
		char **dest = f->dest;
		free(*dest);
		*dest = cu_xstrdup(v->s);
		break;
	}
	case CC_FLAG_INT:
		*(int64_t *)f->dest = v->i;
		break;
	case CC_FLAG_BOOL:
		*(bool *)f->dest = v->b;
		break;
	case CC_FLAG_UINT:
	case CC_FLAG_DURATION:
	case CC_FLAG_DURATION_US:
	case CC_FLAG_SIZE:
		*(uint64_t *)f->dest = v->u;
		break;
	}
}

/* Parses and stores; the message names the flag the way the user wrote it
 * (`where`: "--port" or "cell.conf:3: port"). */
static int set_value(const struct cc_flag *f, const char *s, const char *where,
                     char *errbuf, size_t errlen)
{
	union value v;
	char why[CC_ERRMSG_SIZE];
	if (parse_value(f, s, &v, why, sizeof(why)))
		return cu_errf(errbuf, errlen, CC_EINVAL, "%s: %s", where, why);
	store(f, &v);
	return 0;
}

/* ---- the table itself ------------------------------------------------- */

static const struct cc_flag *find(const struct cc_flag *flags, const char *name,
                                  size_t len)
{
	for (const struct cc_flag *f = flags; f->name; f++)
		if (strlen(f->name) == len && memcmp(f->name, name, len) == 0)
			return f;
	return NULL;
}

static bool name_ok(const char *name)
{
	if (!islower((unsigned char)name[0]))
		return false;
	for (const char *p = name; *p; p++)
		if (!islower((unsigned char)*p) &&
		    !isdigit((unsigned char)*p) && *p != '-' && *p != '_')
			return false;
	return strcmp(name, "help") != 0 && strcmp(name, "config") != 0;
}

/* The table is code, but a mistake in it should say which entry. */
static int check_table(const struct cc_flag *flags, char *errbuf, size_t errlen)
{
	for (const struct cc_flag *f = flags; f->name; f++) {
		if (!name_ok(f->name))
			return cu_errf(
			    errbuf, errlen, CC_EINVAL,
			    "flag table: bad or reserved name \"%s\"", f->name);
		if ((unsigned)f->type > CC_FLAG_DURATION_US || !f->dest)
			return cu_errf(errbuf, errlen, CC_EINVAL,
			               "flag table: %s: bad type or no dest",
			               f->name);
		if (find(flags, f->name, strlen(f->name)) != f)
			return cu_errf(errbuf, errlen, CC_EINVAL,
			               "flag table: %s: declared twice",
			               f->name);
	}
	return 0;
}

static int set_defaults(const struct cc_flag *flags, char *errbuf,
                        size_t errlen)
{
	for (const struct cc_flag *f = flags; f->name; f++) {
		if (f->type == CC_FLAG_STRING) {
			char **dest = f->dest;
			*dest = f->def ? cu_xstrdup(f->def) : NULL;
			continue;
		}
		const char *def = f->def;
		if (!def)
			def = f->type == CC_FLAG_BOOL ? "false" : "0";
		char where[128];
		snprintf(where, sizeof(where), "flag table: default of %s",
		         f->name);
		int rc = set_value(f, def, where, errbuf, errlen);
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- the config file -------------------------------------------------- */

struct file_ctx {
	const struct cc_flag *flags;
	const char *path;
	unsigned lineno;
	unsigned *set_on; /* per flag: the line that set it, 0 if none */
	char *errbuf;
	size_t errlen;
};

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

static int file_err(struct file_ctx *c, const char *fmt, ...) CC_PRINTF(2, 3);

static int file_err(struct file_ctx *c, const char *fmt, ...)
{
	char msg[CC_ERRMSG_SIZE];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return cu_errf(c->errbuf, c->errlen, CC_EINVAL, "%s:%u: %s", c->path,
	               c->lineno, msg);
}

/* A "double-quoted" value in place: \" and \\ are the only escapes. Returns
 * NULL with *why set when the quotes do not close or text follows them. */
static char *unquote(char *v, const char **why)
{
	char *out = v, *p = v + 1;
	for (; *p && *p != '"'; p++) {
		if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
			p++;
		*out++ = *p;
	}
	if (*p != '"') {
		*why = "unterminated quote";
		return NULL;
	}
	char *rest = trim(p + 1);
	if (*rest && *rest != '#') {
		*why = "unexpected text after the closing quote";
		return NULL;
	}
	*out = '\0';
	return v;
}

static int file_line(struct file_ctx *c, char *line)
{
	char *s = trim(line);
	if (*s == '\0' || *s == '#')
		return 0;
	char *eq = strchr(s, '=');
	char got[QUOTE_MAX * 4 + 8];
	quote(got, sizeof(got), s);
	if (!eq)
		return file_err(c, "expected \"name = value\", got %s", got);
	*eq = '\0';
	char *name = trim(s), *value = trim(eq + 1);
	quote(got, sizeof(got), name);
	if (!*name)
		return file_err(c, "expected \"name = value\", got no name");
	if (strcmp(name, "config") == 0)
		return file_err(c, "a config file cannot name another one");
	const struct cc_flag *f = find(c->flags, name, strlen(name));
	if (!f)
		return file_err(c, "unknown setting %s", got);
	if (*value == '"') {
		const char *why = NULL;
		if (!unquote(value, &why))
			return file_err(c, "%s: %s", name, why);
	} else {
		char *hash = strchr(value, '#');
		if (hash)
			*hash = '\0';
		value = trim(value);
	}
	unsigned *seen = &c->set_on[f - c->flags];
	if (*seen)
		return file_err(c, "%s is already set on line %u", got, *seen);
	*seen = c->lineno;
	char where[CC_ERRMSG_SIZE];
	snprintf(where, sizeof(where), "%s:%u: %s", c->path, c->lineno, name);
	return set_value(f, value, where, c->errbuf, c->errlen);
}

static int load_file(const struct cc_flag *flags, const char *path,
                     char *errbuf, size_t errlen)
{
	FILE *fp = fopen(path, "r");
	if (!fp)
		return cu_errf(errbuf, errlen, CC_EINVAL, "%s: cannot read: %s",
		               path, strerror(errno));
	size_t n = 0;
	while (flags[n].name)
		n++;
	struct file_ctx c = {flags,  path,
	                     0,      cu_xcalloc(n + 1, sizeof(unsigned)),
	                     errbuf, errlen};
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int rc = 0;
	while (rc == 0 && (len = getline(&line, &cap, fp)) >= 0) {
		c.lineno++;
		if (memchr(line, '\0', (size_t)len))
			rc = file_err(&c, "contains a NUL byte");
		else
			rc = file_line(&c, line);
	}
	if (rc == 0 && ferror(fp))
		rc = cu_errf(errbuf, errlen, CC_EINVAL, "%s: cannot read: %s",
		             path, strerror(errno));
	free(line);
	free(c.set_on);
	fclose(fp);
	return rc;
}

/* ---- the command line ------------------------------------------------- */

struct setting {
	const struct cc_flag *flag;
	const char *value;
};

struct argv_scan {
	struct setting *settings; /* in command-line order */
	size_t n;
	const char *config;
	int next; /* first argument not consumed */
};

/* One argument at argv[*i] that starts with "-". */
static int scan_flag(const struct cc_flag *flags, int argc, char *const argv[],
                     int *i, struct argv_scan *out, char *errbuf, size_t errlen)
{
	const char *arg = argv[*i];
	char q[QUOTE_MAX * 4 + 8];
	quote(q, sizeof(q), arg);
	if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0)
		return CC_HELP;
	if (strncmp(arg, "--", 2) != 0)
		return cu_errf(errbuf, errlen, CC_EINVAL, "unknown flag %s", q);
	const char *name = arg + 2, *eq = strchr(name, '=');
	size_t len = eq ? (size_t)(eq - name) : strlen(name);
	const char *value = eq ? eq + 1 : NULL;
	bool is_config = len == 6 && memcmp(name, "config", 6) == 0;
	const struct cc_flag *f = is_config ? NULL : find(flags, name, len);
	if (len == 4 && memcmp(name, "help", 4) == 0)
		return cu_errf(errbuf, errlen, CC_EINVAL,
		               "--help: takes no value");
	if (!f && !is_config)
		return cu_errf(errbuf, errlen, CC_EINVAL, "unknown flag %s", q);
	if (!value && f && f->type == CC_FLAG_BOOL)
		value = "true";
	if (!value) {
		if (*i + 1 >= argc)
			return cu_errf(errbuf, errlen, CC_EINVAL,
			               "--%.*s: expected a value after it",
			               (int)len, name);
		value = argv[++*i];
	}
	if (is_config) {
		if (out->config)
			return cu_errf(errbuf, errlen, CC_EINVAL,
			               "--config: given more than once");
		if (!*value)
			return cu_errf(errbuf, errlen, CC_EINVAL,
			               "--config: expected a file name");
		out->config = value;
		return 0;
	}
	out->settings[out->n++] = (struct setting){f, value};
	return 0;
}

static int scan_argv(const struct cc_flag *flags, int argc, char *const argv[],
                     struct argv_scan *out, char *errbuf, size_t errlen)
{
	int i;
	for (i = 1; i < argc; i++) {
		const char *arg = argv[i];
		if (strcmp(arg, "--") == 0) {
			i++;
			break;
		}
		if (arg[0] != '-' || arg[1] == '\0')
			break;
		int rc = scan_flag(flags, argc, argv, &i, out, errbuf, errlen);
		if (rc)
			return rc;
	}
	out->next = i;
	return 0;
}

/* Command-line values are checked before the file is read, so a typo on
 * the command line is reported even when the file is broken too. */
static int check_settings(const struct argv_scan *sc, char *errbuf,
                          size_t errlen)
{
	for (size_t k = 0; k < sc->n; k++) {
		union value v;
		char why[CC_ERRMSG_SIZE];
		const struct setting *s = &sc->settings[k];
		if (parse_value(s->flag, s->value, &v, why, sizeof(why)))
			return cu_errf(errbuf, errlen, CC_EINVAL, "--%s: %s",
			               s->flag->name, why);
	}
	return 0;
}

static int apply(const struct cc_flag *flags, const struct argv_scan *sc,
                 int argc, char *const argv[], int *next, char *errbuf,
                 size_t errlen)
{
	int rc = check_settings(sc, errbuf, errlen);
	if (rc == 0 && sc->config)
		rc = load_file(flags, sc->config, errbuf, errlen);
	for (size_t k = 0; rc == 0 && k < sc->n; k++) {
		char where[128];
		snprintf(where, sizeof(where), "--%s",
		         sc->settings[k].flag->name);
		rc = set_value(sc->settings[k].flag, sc->settings[k].value,
		               where, errbuf, errlen);
	}
	if (rc)
		return rc;
	if (next) {
		*next = sc->next;
	} else if (sc->next < argc) {
		char q[QUOTE_MAX * 4 + 8];
		quote(q, sizeof(q), argv[sc->next]);
		return cu_errf(errbuf, errlen, CC_EINVAL,
		               "unexpected argument %s", q);
	}
	return 0;
}

int cc_flags_parse(const struct cc_flag *flags, int argc, char *const argv[],
                   int *next, char *errbuf, size_t errlen)
{
	int rc = check_table(flags, errbuf, errlen);
	if (rc)
		return rc;
	rc = set_defaults(flags, errbuf, errlen);
	if (rc)
		return rc;
	struct argv_scan sc = {0};
	sc.settings =
	    cu_xcalloc(argc > 0 ? (size_t)argc : 1, sizeof(*sc.settings));
	rc = scan_argv(flags, argc, argv, &sc, errbuf, errlen);
	if (rc == 0)
		rc = apply(flags, &sc, argc, argv, next, errbuf, errlen);
	free(sc.settings);
	return rc;
}

void cc_flags_free(const struct cc_flag *flags)
{
	for (const struct cc_flag *f = flags; f->name; f++) {
		if (f->type == CC_FLAG_STRING) {
			char **dest = f->dest;
			free(*dest);
			*dest = NULL;
		}
	}
}

/* ---- --help ----------------------------------------------------------- */

static void help_default(struct cu_buf *b, const struct cc_flag *f)
{
	if (f->type == CC_FLAG_STRING) {
		if (f->def && *f->def)
			cu_buf_addf(b, " (default \"%s\")", f->def);
		else
			cu_buf_adds(b, " (default: none)");
		return;
	}
	const char *def = f->def;
	if (!def)
		def = f->type == CC_FLAG_BOOL ? "false" : "0";
	cu_buf_addf(b, " (default %s)", def);
}

static void help_entry(struct cu_buf *b, const char *name, const char *type,
                       const char *help)
{
	cu_buf_addf(b, "  --%s%s%s\n        %s", name, *type ? " " : "", type,
	            help ? help : "");
}

char *cc_flags_help(const struct cc_flag *flags, const char *usage,
                    const char *about)
{
	struct cu_buf b = {0};
	cu_buf_addf(&b, "Usage: %s\n", usage);
	if (about && *about)
		cu_buf_addf(&b, "\n%s\n", about);
	cu_buf_adds(&b, "\nFlags:\n");
	help_entry(&b, "config", "FILE",
	           "read settings from FILE, one \"name = value\" per line "
	           "(names as below, without --; flags given here win)\n");
	for (const struct cc_flag *f = flags; f->name; f++) {
		help_entry(&b, f->name, type_names[f->type], f->help);
		help_default(&b, f);
		cu_buf_adds(&b, "\n");
	}
	help_entry(&b, "help", "", "print this help and exit\n");
	return cu_buf_steal(&b);
}
