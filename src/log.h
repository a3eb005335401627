/* Levelled logging: logfmt or JSON lines on stderr, or native journal entries with priorities
 * and structured fields when stderr is connected to the journal (JOURNAL_STREAM). */
#ifndef KOBS_LOG_H
#define KOBS_LOG_H

#include <stddef.h>

enum log_level {
	LOG_LEVEL_DEBUG,
	LOG_LEVEL_INFO,
	LOG_LEVEL_WARN,
	LOG_LEVEL_ERROR,
};

/* How lines on stderr are written (--log.format); the journal always gets native fields. */
enum log_format {
	LOG_FORMAT_LOGFMT, /* ts=... level=info msg="..." key="value" */
	LOG_FORMAT_JSON,   /* {"ts":"...","level":"info","msg":"...","key":"value"} */
};

/* A structured field. `name` is upper case ([A-Z0-9_]): it becomes KOBS_<NAME> in the journal
 * and a lower-case logfmt key on stderr. */
struct log_field {
	const char *name;
	const char *value;
};

/* MESSAGE_IDs of notable events, so `journalctl MESSAGE_ID=...` finds them. Never change one. */
#define LOG_ID_COLLECTOR_FAILED "7f9780c03c484ddc98a884b4d80a2027"
#define LOG_ID_STARTED          "1a8fb871a7e74ea7b40592482334931e"
#define LOG_ID_BPF_PROGRAM_OFF  "c2f06d0e5b8a4f3f9b1d7a64e0e8a913"
#define LOG_ID_OOM_KILL         "5d3b9e2c7f1a4c0e8e6b2a9d4f7c1e35"

/* Parse "debug", "info", "warn" or "error"; returns -1 for anything else. */
int log_level_parse(const char *name);
void log_set_level(enum log_level level);
/* Parse "logfmt" or "json"; returns -1 for anything else. */
int log_format_parse(const char *name);
/* Call once at start, before any thread exists. */
void log_set_format(enum log_format format);
int log_enabled(enum log_level level);
/* Log to the journal when JOURNAL_STREAM names our stderr and libsystemd is built in. Call once
 * at start, before any thread exists. Returns whether the journal is used. */
int log_use_journal_if_connected(void);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A notable event: a message with a MESSAGE_ID (may be NULL) and structured fields. */
void log_event(enum log_level level, const char *message_id, const struct log_field *fields,
               size_t nfields, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)

#endif
