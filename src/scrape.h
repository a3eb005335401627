/* Scrapes: run the enabled collectors, add the self metrics, render and compress.
 *
 * Concurrent scrapes share one collection: a request that arrives while a collection is running
 * waits for it and is answered from its result instead of walking /proc again. Each finished
 * collection is rendered at most once per format (and compressed at most once), however many
 * requests ask for it.
 *
 * A request may ask for some collectors only (collect[] in the query, as node_exporter has it).
 * It joins a collection under way when that one runs every collector it asked for, and is
 * answered with just their samples; otherwise the next collection runs the collectors that the
 * requests waiting for it asked for, and no other: splitting scrapes (processes every minute,
 * system every 15 s) is how a user makes them cheaper, so a system-only request must not walk
 * /proc/<pid>. */
#ifndef KOBS_SCRAPE_H
#define KOBS_SCRAPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "expo.h"
#include "options.h"

enum collector_state {
	COLLECTOR_DISABLED,
	COLLECTOR_ENABLED,
	COLLECTOR_FAILED,
};

struct collector_status {
	const char *name;
	const char *description;
	enum collector_state state;
	char why[256];        /* why it failed, or was disabled */
	double last_duration; /* seconds, of the last collection */
	bool last_success;
	bool collected_once;
	bool requested;     /* turned on by a flag (--collector.NAME), not by default */
	bool not_permitted; /* failed for want of a privilege (COLLECTOR_NOT_PERMITTED) */
};

/* A collector that is off only because the daemon runs without the privilege it needs, and that
 * nobody asked for: the normal state of an unprivileged daemon, not a failure to alert on. */
bool collector_status_expected_off(const struct collector_status *c);

struct scrape;

struct groups_config;

/* Set up every collector of the registry, enabled by default or by the options' toggles, with the
 * options' procfs, textfile directory, --collector.disable-defaults and
 * --web.disable-exporter-metrics. Collectors that fail to set up are logged and listed as failed;
 * the others run. Takes ownership of `groups`; `o` must outlive the scrape. */
struct scrape *scrape_new(const struct options *o, struct groups_config *groups);
/* Put a new group configuration in force between two collections (SIGHUP). Takes ownership of
 * `groups`. Returns false, and keeps the running one, when the new one is the same. */
bool scrape_reconfigure(struct scrape *s, struct groups_config *groups);
/* Start collecting, on a thread of its own; scrape_serve() waits until then. Threads are started
 * after the collectors are set up, so that the daemon can give up its privileges in between. */
void scrape_start(struct scrape *s);
void scrape_free(struct scrape *s);

/* Called with the rendered body while the scrape's lock is held: copy what you need. */
typedef void (*scrape_consumer)(const char *body, size_t len, void *arg);

/* The collectors one request asks for: every one, unless collect[] names some. */
struct scrape_selection {
	struct scrape *scrape;
	uint64_t slots;  /* the collectors named so far; 0: none named, every one is served */
	char error[512]; /* why the request is refused (an unknown or disabled name), or "" */
};

void scrape_selection_init(struct scrape_selection *sel, struct scrape *s);
/* Add one collect[] value (NULL when the parameter had none). Returns 0, or -1 with a message
 * for the client in sel->error; once set, the error stays. */
int scrape_select(struct scrape_selection *sel, const char *name);

/* Serve one scrape: collect (or join a collection under way), render in `format` the samples of
 * the selected collectors (every one when `sel` is NULL or selects none) and the self metrics,
 * gzip when asked, and pass the body to `consume`. Returns 0, or -1 if compression failed (the
 * caller may retry without gzip). */
int scrape_serve(struct scrape *s, const struct scrape_selection *sel, enum expo_format format,
                 bool gzip, scrape_consumer consume, void *arg);

/* A copy of each collector's status, for the landing page. Returns how many were written. */
size_t scrape_status(struct scrape *s, struct collector_status *out, size_t max);

struct scrape_summary {
	size_t series;             /* served by the last finished collection */
	size_t collectors_enabled; /* set up and running */
	size_t collectors_failed;  /* failed to set up, or failed in the last collection */
	double last_duration;      /* seconds the last collection took */
	double last_age;           /* seconds since it finished; -1 before the first */
	double busy_for;           /* seconds the collection under way has run; 0 if none */
};

/* For the service status line and the watchdog's hang check. */
void scrape_summary(struct scrape *s, struct scrape_summary *out);

#endif
