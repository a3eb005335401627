/* Scrapes: run the enabled collectors, add the self metrics, render and compress.
 *
 * Concurrent scrapes share one collection: a request that arrives while a collection is running
 * waits for it and is answered from its result instead of walking /proc again. Each finished
 * collection is rendered at most once per format (and compressed at most once), however many
 * requests ask for it. */
#ifndef KOBS_SCRAPE_H
#define KOBS_SCRAPE_H

#include <stdbool.h>
#include <stddef.h>

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
};

struct scrape;

struct groups_config;

/* Set up every collector of the registry, enabled by default or by the toggles. Collectors that
 * fail to set up are logged and listed as failed; the others run. Takes ownership of `groups`. */
struct scrape *scrape_new(const char *procfs, const struct host_options *host,
                          const struct collector_toggle *toggles, size_t ntoggles,
                          struct groups_config *groups);
/* Put a new group configuration in force between two collections (SIGHUP). Takes ownership of
 * `groups`. Returns false, and keeps the running one, when the new one is the same. */
bool scrape_reconfigure(struct scrape *s, struct groups_config *groups);
/* Start collecting, on a thread of its own; scrape_serve() waits until then. Threads are started
 * after the collectors are set up, so that the daemon can give up its privileges in between. */
void scrape_start(struct scrape *s);
void scrape_free(struct scrape *s);

/* Called with the rendered body while the scrape's lock is held: copy what you need. */
typedef void (*scrape_consumer)(const char *body, size_t len, void *arg);

/* Serve one scrape: collect (or join a collection under way), render in `format`, gzip when
 * asked, and pass the body to `consume`. Returns 0, or -1 if compression failed (the caller may
 * retry without gzip). */
int scrape_serve(struct scrape *s, enum expo_format format, bool gzip, scrape_consumer consume,
                 void *arg);

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
