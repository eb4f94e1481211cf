/* log.c: one line per event with UTC time, level and the process's tag. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_BYTES 8192
#define TAG_MAX        63

/* Process-wide: set up before threads start (cellcommon.h), read after. */
static struct {
	enum cc_log_level level;
	int fd;     /* 2 until cc_log_open */
	bool owned; /* fd was opened here and is closed on replacement */
	char tag[TAG_MAX + 1];
} logger = {CC_LOG_INFO, 2, false, ""};

static const char *const level_names[] = {"DEBUG", "INFO", "WARN", "ERROR"};

static bool level_valid(enum cc_log_level level)
{
	return (unsigned)level < CC_ARRAY_LEN(level_names);
}

void cc_log_set_level(enum cc_log_level level)
{
	if (!level_valid(level))
		cc_die("cc_log_set_level: unknown level %d", (int)level);
	logger.level = level;
}

bool cc_log_enabled(enum cc_log_level level)
{
	return level >= logger.level;
}

int cc_log_level_parse(const char *name)
{
	if (!name)
		return -1;
	for (size_t i = 0; i < CC_ARRAY_LEN(level_names); i++)
		if (strcasecmp(name, level_names[i]) == 0)
			return (int)i;
	if (strcasecmp(name, "warning") == 0)
		return CC_LOG_WARN;
	return -1;
}

const char *cc_log_level_name(enum cc_log_level level)
{
	return level_valid(level) ? level_names[level] : "?";
}

void cc_log_set_tag(const char *tag)
{
	snprintf(logger.tag, sizeof(logger.tag), "%s", tag ? tag : "");
}

int cc_log_open(const char *path, char *errbuf, size_t errlen)
{
	int fd = 2;
	if (path && strcmp(path, "-") != 0) {
		fd =
		    open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (fd < 0)
			return cu_errf(errbuf, errlen, CC_EIO,
			               "log file %s: cannot open: %s", path,
			               strerror(errno));
	}
	if (logger.owned)
		close(logger.fd);
	logger.fd = fd;
	logger.owned = fd != 2;
	return 0;
}

int cc_log_configure(const char *tag, const char *level, const char *path,
                     char *errbuf, size_t errlen)
{
	int l = cc_log_level_parse(level);
	if (l < 0)
		return cu_errf(errbuf, errlen, CC_EINVAL,
		               "--log-level: expected debug, info, warn or "
		               "error, got \"%s\"",
		               level);
	cc_log_set_tag(tag);
	cc_log_set_level((enum cc_log_level)l);
	return cc_log_open(path, errbuf, errlen);
}

/* "2024-05-01T12:34:56.789Z" */
static size_t format_time(char *out, size_t size)
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	size_t n = strftime(out, size, "%Y-%m-%dT%H:%M:%S", &tm);
	int m = snprintf(out + n, size - n, ".%03ldZ", ts.tv_nsec / 1000000);
	return n + (m > 0 ? (size_t)m : 0);
}

/* Copies msg into out escaping control characters, so one event stays one
 * line whatever it carries (a client's bad JSON, a path with CR/LF). Returns
 * the bytes written; ends with "..." when msg was already cut (`cut`) or
 * does not fit. size must leave room for that. */
static size_t escape_into(char *out, size_t size, const char *msg, bool cut)
{
	size_t n = 0;
	for (const unsigned char *p = (const unsigned char *)msg; *p; p++) {
		char tmp[5];
		size_t k = 1;
		tmp[0] = (char)*p;
		if (*p == '\n' || *p == '\r' || *p == '\t') {
			tmp[0] = '\\';
			tmp[1] = *p == '\n' ? 'n' : *p == '\r' ? 'r' : 't';
			k = 2;
		} else if (*p < 0x20 || *p == 0x7f) {
			snprintf(tmp, sizeof(tmp), "\\x%02x", *p);
			k = 4;
		}
		if (n + k + 3 > size) {
			cut = true;
			break;
		}
		memcpy(out + n, tmp, k);
		n += k;
	}
	if (cut) {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	return n;
}

static void write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return; /* nowhere left to report a logging failure */
		p += w;
		n -= (size_t)w;
	}
}

void cc_vlog(enum cc_log_level level, const char *fmt, va_list ap)
{
	if (!level_valid(level) || level < logger.level)
		return;
	char msg[LINE_MAX_BYTES];
	int len = vsnprintf(msg, sizeof(msg), fmt, ap);
	bool cut = len >= (int)sizeof(msg);

	char line[LINE_MAX_BYTES + 128];
	size_t n = format_time(line, sizeof(line));
	n += (size_t)snprintf(line + n, sizeof(line) - n, " %s%s%s%s ",
	                      level_names[level], logger.tag[0] ? " " : "",
	                      logger.tag, logger.tag[0] ? ":" : "");
	n += escape_into(line + n, sizeof(line) - n - 1, msg, cut);
	line[n++] = '\n';
	write_all(logger.fd, line, n);
}

void cc_log(enum cc_log_level level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	cc_vlog(level, fmt, ap);
	va_end(ap);
}
