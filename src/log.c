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
#include "utf8.h"

#ifdef HAVE_SYSTEMD
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>
#endif

/* The only process-wide state outside the daemon context: set once at start, before any thread
 * exists, and only read afterwards. */
static enum log_level threshold = LOG_LEVEL_INFO;
static enum log_format line_format = LOG_FORMAT_LOGFMT;
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

int log_format_parse(const char *name)
{
	if (strcmp(name, "logfmt") == 0)
		return LOG_FORMAT_LOGFMT;
	if (strcmp(name, "json") == 0)
		return LOG_FORMAT_JSON;
	return -1;
}

void log_set_format(enum log_format format)
{
	line_format = format;
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

/* A JSON string. JSON must be valid Unicode, and process names need not be: each byte of an
 * invalid UTF-8 sequence becomes U+FFFD. A value too long for the line is cut at a character
 * boundary, and the quotes always close. */
static size_t append_json(char *out, size_t pos, size_t cap, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	if (pos + 2 >= cap)
		return pos;
	out[pos++] = '"';
	cap--; /* room for the closing quote */
	for (const unsigned char *p = (const unsigned char *)s; *p;) {
		size_t n = utf8_char(p, strnlen((const char *)p, 4));
		if (n == 1 && (*p == '"' || *p == '\\' || *p < 0x20)) {
			char esc[7];
			size_t len = 2;
			esc[0] = '\\';
			if (*p == '"' || *p == '\\')
				esc[1] = (char)*p;
			else if (*p == '\n')
				esc[1] = 'n';
			else if (*p == '\t')
				esc[1] = 't';
			else {
				memcpy(esc + 1, "u00", 3);
				esc[4] = hex[*p >> 4];
				esc[5] = hex[*p & 15];
				len = 6;
			}
			if (pos + len > cap)
				break;
			memcpy(out + pos, esc, len);
			pos += len;
			p++;
		} else if (n == 0) {
			if (pos + 6 > cap)
				break;
			memcpy(out + pos, "\\ufffd", 6);
			pos += 6;
			p++;
		} else {
			if (pos + n > cap)
				break;
			memcpy(out + pos, p, n);
			pos += n;
			p += n;
		}
	}
	out[pos++] = '"';
	return pos;
}

/* Field names are [A-Z0-9_], fixed by the code: lower-cased they need no quoting or escaping. */
static size_t append_key(char *out, size_t pos, size_t cap, const char *name)
{
	for (const char *p = name; *p && pos + 1 < cap; p++)
		out[pos++] = (char)tolower((unsigned char)*p);
	return pos;
}

static int format_time(char *out, size_t len)
{
	struct timespec now;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	return snprintf(out, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
	                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	                now.tv_nsec / 1000000);
}

static size_t logfmt_line(char *line, size_t cap, const char *ts, enum log_level level,
                          const char *message_id, const struct log_field *fields, size_t nfields,
                          const char *msg)
{
	int n = snprintf(line, cap, "ts=%s level=%s msg=", ts, level_names[level]);
	size_t pos = append_quoted(line, (size_t)n, cap, msg);
	for (size_t i = 0; i < nfields; i++) {
		pos = append_raw(line, pos, cap, " ");
		pos = append_key(line, pos, cap, fields[i].name);
		pos = append_raw(line, pos, cap, "=");
		pos = append_quoted(line, pos, cap, fields[i].value);
	}
	if (message_id) {
		pos = append_raw(line, pos, cap, " message_id=");
		pos = append_raw(line, pos, cap, message_id);
	}
	return pos;
}

/* One JSON object; `cap` leaves room for its closing brace. */
static size_t json_line(char *line, size_t cap, const char *ts, enum log_level level,
                        const char *message_id, const struct log_field *fields, size_t nfields,
                        const char *msg)
{
	int n =
	    snprintf(line, cap, "{\"ts\":\"%s\",\"level\":\"%s\",\"msg\":", ts, level_names[level]);
	size_t pos = append_json(line, (size_t)n, cap, msg);
	for (size_t i = 0; i < nfields; i++) {
		/* A field that no longer fits is left out whole: the line stays valid JSON. */
		size_t before = pos;
		pos = append_raw(line, pos, cap, ",\"");
		pos = append_key(line, pos, cap, fields[i].name);
		pos = append_raw(line, pos, cap, "\":");
		size_t value_at = pos;
		pos = append_json(line, pos, cap, fields[i].value);
		if (pos == value_at)
			pos = before;
	}
	if (message_id && pos + strlen(message_id) + 16 < cap) {
		pos = append_raw(line, pos, cap, ",\"message_id\":\"");
		pos = append_raw(line, pos, cap, message_id);
		pos = append_raw(line, pos, cap, "\"");
	}
	line[pos++] = '}';
	return pos;
}

static void write_line(enum log_level level, const char *message_id, const struct log_field *fields,
                       size_t nfields, const char *msg)
{
	char line[2048], ts[96];
	format_time(ts, sizeof(ts));
	size_t cap = sizeof(line) - 2; /* room for the closing brace and the newline */
	size_t pos = line_format == LOG_FORMAT_JSON
	                 ? json_line(line, cap, ts, level, message_id, fields, nfields, msg)
	                 : logfmt_line(line, cap, ts, level, message_id, fields, nfields, msg);
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
