#include "log.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>

#include "config.h"

#ifdef HAVE_SYSTEMD
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>
#endif

/* The only process-wide state outside the daemon context: set once at start, before any thread
 * exists, and only read afterwards. */
static enum log_level threshold = LOG_LEVEL_INFO;
static int to_journal;

static const char *const level_names[] = {"debug", "info", "warn", "error"};
#ifdef HAVE_SYSTEMD
/* syslog priorities: debug 7, info 6, warning 4, err 3 */
static const char *const level_priorities[] = {"PRIORITY=7", "PRIORITY=6", "PRIORITY=4",
                                               "PRIORITY=3"};
#endif

/* Fields of one entry at most: a slow event has up to 15. */
#define LOG_MAX_FIELDS 16

int log_level_parse(const char *name)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(name, level_names[i]) == 0)
			return i;
	return -1;
}

void log_set_level(enum log_level level)
{
	threshold = level;
}

int log_enabled(enum log_level level)
{
	return level >= threshold;
}

int log_use_journal_if_connected(void)
{
#ifdef HAVE_SYSTEMD
	/* systemd sets JOURNAL_STREAM=<dev>:<inode> of the stream it connected to stderr; if
	 * stderr was redirected since, it no longer matches and we keep writing lines. */
	const char *stream = getenv("JOURNAL_STREAM");
	struct stat st;
	unsigned long long dev, ino;
	if (stream && sscanf(stream, "%llu:%llu", &dev, &ino) == 2 && fstat(2, &st) == 0 &&
	    (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino)
		to_journal = 1;
#endif
	return to_journal;
}

/* logfmt: values are quoted, and any byte that could break the line (process names can hold
 * newlines and quotes) is escaped. */
static size_t append_quoted(char *out, size_t pos, size_t cap, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	if (pos + 1 < cap)
		out[pos++] = '"';
	for (const unsigned char *p = (const unsigned char *)s; *p && pos + 6 < cap; p++) {
		if (*p == '"' || *p == '\\') {
			out[pos++] = '\\';
			out[pos++] = (char)*p;
		} else if (*p == '\n') {
			out[pos++] = '\\';
			out[pos++] = 'n';
		} else if (*p < 0x20 || *p == 0x7f) {
			out[pos++] = '\\';
			out[pos++] = 'x';
			out[pos++] = hex[*p >> 4];
			out[pos++] = hex[*p & 15];
		} else {
			out[pos++] = (char)*p;
		}
	}
	if (pos + 1 < cap)
		out[pos++] = '"';
	return pos;
}

static size_t append_raw(char *out, size_t pos, size_t cap, const char *s)
{
	while (*s && pos + 1 < cap)
		out[pos++] = *s++;
	return pos;
}

static void write_line(enum log_level level, const char *message_id, const struct log_field *fields,
                       size_t nfields, const char *msg)
{
	char line[2048];
	struct timespec now;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	int n = snprintf(line, sizeof(line),
	                 "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s msg=", tm.tm_year + 1900,
	                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	                 now.tv_nsec / 1000000, level_names[level]);
	size_t cap = sizeof(line) - 1; /* room for the newline */
	size_t pos = append_quoted(line, (size_t)n, cap, msg);
	for (size_t i = 0; i < nfields; i++) {
		pos = append_raw(line, pos, cap, " ");
		for (const char *p = fields[i].name; *p && pos + 1 < cap; p++)
			line[pos++] = (char)tolower((unsigned char)*p);
		pos = append_raw(line, pos, cap, "=");
		pos = append_quoted(line, pos, cap, fields[i].value);
	}
	if (message_id) {
		pos = append_raw(line, pos, cap, " message_id=");
		pos = append_raw(line, pos, cap, message_id);
	}
	line[pos++] = '\n';
	/* One write per line so that threads never interleave inside a line. */
	fwrite(line, 1, pos, stderr);
}

#ifdef HAVE_SYSTEMD
static int write_journal(enum log_level level, const char *message_id,
                         const struct log_field *fields, size_t nfields, const char *msg)
{
	char message[1600], id[64], extra[LOG_MAX_FIELDS][384];
	struct iovec iov[4 + LOG_MAX_FIELDS];
	int n = 0;
	snprintf(message, sizeof(message), "MESSAGE=%s", msg);
	iov[n++] = (struct iovec){message, strlen(message)};
	iov[n++] = (struct iovec){(void *)level_priorities[level], strlen(level_priorities[level])};
	iov[n++] = (struct iovec){(void *)"SYSLOG_IDENTIFIER=kobsd", 23};
	if (message_id) {
		snprintf(id, sizeof(id), "MESSAGE_ID=%s", message_id);
		iov[n++] = (struct iovec){id, strlen(id)};
	}
	for (size_t i = 0; i < nfields && i < LOG_MAX_FIELDS; i++) {
		snprintf(extra[i], sizeof(extra[i]), "KOBS_%s=%s", fields[i].name, fields[i].value);
		iov[n++] = (struct iovec){extra[i], strlen(extra[i])};
	}
	return sd_journal_sendv(iov, n);
}
#endif

static void vlog(enum log_level level, const char *message_id, const struct log_field *fields,
                 size_t nfields, const char *fmt, va_list ap)
{
	if (!log_enabled(level))
		return;
	char msg[1536];
	vsnprintf(msg, sizeof(msg), fmt, ap);
#ifdef HAVE_SYSTEMD
	if (to_journal && write_journal(level, message_id, fields, nfields, msg) >= 0)
		return;
#endif
	write_line(level, message_id, fields, nfields, msg);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(level, NULL, NULL, 0, fmt, ap);
	va_end(ap);
}

void log_event(enum log_level level, const char *message_id, const struct log_field *fields,
               size_t nfields, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(level, message_id, fields, nfields, fmt, ap);
	va_end(ap);
}
