#include "scrape.h"

#include <malloc.h>
#include <stddef.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collectors.h"
#include "events.h"
#include "group_link.h"
#include "groups_config.h"
#include "gzip.h"
#include "log.h"
#include "read_errors.h"
#include "self.h"
#include "task_feed.h"
#include "xalloc.h"

#define FORMATS 3 /* enum expo_format: text, OpenMetrics, protobuf */
/* The owner of the samples that belong to no collector (expo_set_owner); collectors are owners
 * 0, 1, ... in registry order. */
#define SELF_OWNER (EXPO_OWNERS - 1)

struct slot {
	const struct collector_ops *ops;
	void *state;
	struct collector_status status; /* under the lock */
	/* The collecting thread's own results, published into status once it is done. */
	double run_duration;
	bool run_success;
	bool run_once;
	char run_note[sizeof(((struct collector_status *)0)->why)];
};

struct rendering {
	struct buf body;
	struct buf gz;
	bool have_body;
	bool have_gz;
};

struct scrape {
	pthread_mutex_t lock;
	pthread_cond_t finished;
	pthread_cond_t wanted; /* wakes the collecting thread */
	pthread_t collector;
	bool collection_wanted;
	/* Collectors (bit i: slot i) that the next collection runs, the one under way runs, and
	 * the served one ran. */
	uint64_t wanted_run;
	uint64_t collecting_run;
	uint64_t served_run;
	uint64_t enabled; /* the slots set up and running */
	uint64_t every;   /* every slot */
	bool exporter_metrics;
	bool stopping;
	bool running; /* the collecting thread was started */
	bool collecting;
	bool priming; /* the collection of the start runs: no request shares it */
	unsigned long generation;
	double started;       /* CLOCK_MONOTONIC seconds the collection under way began */
	double last_finished; /* CLOCK_MONOTONIC seconds; 0 before the first collection */
	double last_duration;
	size_t last_series;
	uint64_t requests;    /* scrape_serve calls */
	unsigned in_flight;   /* scrape_serve calls not yet returned */
	uint64_t collections; /* of them, those that ran a collection instead of sharing one */

	struct collector_env env;
	struct task_feed tasks; /* env.tasks */
	struct slot *slots;
	size_t nslots;
	struct self *self;

	/* Two models: the collecting thread fills `building` without the lock, and publishes it
	 * as `served` under the lock when done; requests render `served` under the lock. One model
	 * would not do: a request woken by the end of a collection may get the lock only after
	 * the next collection has begun rewriting it. */
	struct expo *served;
	struct expo *building;
	struct rendering rendered[FORMATS]; /* of `served`, under the lock */
};

static double monotonic_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

bool collector_status_expected_off(const struct collector_status *c)
{
	return c->state == COLLECTOR_FAILED && c->not_permitted && !c->requested;
}

static uint64_t bit(size_t slot)
{
	return (uint64_t)1 << slot;
}

static bool covers(uint64_t have, uint64_t want)
{
	return (have & want) == want;
}

/* Whether the options turn the collector on, and whether a flag did (rather than the default).
 * The last flag naming a collector wins, as with repeated flags in kingpin. */
static bool wanted(const struct collector_ops *ops, const struct options *o, bool *requested)
{
	bool enabled = o->disable_defaults ? false : ops->default_enabled;
	*requested = false;
	for (size_t i = 0; i < o->ntoggles; i++) {
		if (strcmp(o->toggles[i].name, ops->name) == 0) {
			enabled = o->toggles[i].enabled;
			*requested = enabled;
		}
	}
	return enabled;
}

static const char *disabled_by(const struct collector_ops *ops, const struct options *o)
{
	for (size_t i = 0; i < o->ntoggles; i++)
		if (strcmp(o->toggles[i].name, ops->name) == 0)
			return "--no-collector flag";
	if (o->disable_defaults && ops->default_enabled)
		return "--collector.disable-defaults";
	return "default";
}

static void log_failed_setup(const struct slot *slot)
{
	const struct collector_status *st = &slot->status;
	if (collector_status_expected_off(st)) {
		log_info("collector %s is off: not permitted (%s)", st->name, st->why);
		return;
	}
	struct log_field fields[] = {{"COLLECTOR", st->name}, {"REASON", st->why}};
	log_event(LOG_LEVEL_WARN, LOG_ID_COLLECTOR_FAILED, fields, 2,
	          "collector %s failed to start: %s%s; serving the other collectors", st->name,
	          st->not_permitted ? "not permitted: " : "", st->why);
}

static void setup_slot(struct scrape *s, struct slot *slot, const struct options *o)
{
	slot->status.name = slot->ops->name;
	slot->status.description = slot->ops->description;
	if (!wanted(slot->ops, o, &slot->status.requested)) {
		slot->status.state = COLLECTOR_DISABLED;
		snprintf(slot->status.why, sizeof(slot->status.why), "disabled by %s",
		         disabled_by(slot->ops, o));
		return;
	}
	slot->status.why[0] = '\0';
	int rc = slot->ops->init(&slot->state, &s->env, slot->status.why, sizeof(slot->status.why));
	if (rc < 0) {
		slot->status.state = COLLECTOR_FAILED;
		slot->status.not_permitted = rc == COLLECTOR_NOT_PERMITTED;
		log_failed_setup(slot);
		return;
	}
	slot->status.state = COLLECTOR_ENABLED;
	if (slot->status.why[0])
		log_info("collector %s enabled: %s", slot->ops->name, slot->status.why);
	else
		log_info("collector %s enabled", slot->ops->name);
}

static void *collector_main(void *arg);
static void release_served(struct scrape *s);

struct scrape *scrape_new(const struct options *o, struct groups_config *groups)
{
	struct scrape *s = xcalloc(1, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->finished, NULL);
	pthread_cond_init(&s->wanted, NULL);
	s->env.procfs = o->procfs;
	s->env.textfile_directory = o->textfile_directory;
	s->env.host = &o->host;
	s->env.groups = groups;
	s->env.link = group_link_new();
	group_link_set_config(s->env.link, groups);
	s->env.read_errors = read_errors_new();
	s->env.tasks = &s->tasks;
	s->env.events = events_new();
	s->served = expo_new();
	s->building = expo_new();
	s->exporter_metrics = !o->disable_exporter_metrics;
	if (s->exporter_metrics) {
		s->self = self_new();
		if (!s->self)
			log_warn("libproc2 could not be set up; the daemon's own process_* metrics "
			         "are left out");
	}
	for (int f = 0; f < FORMATS; f++) {
		buf_init(&s->rendered[f].body);
		buf_init(&s->rendered[f].gz);
	}

	s->nslots = collectors_count();
	/* One owner per collector, and one for the self metrics. */
	if (s->nslots >= SELF_OWNER) {
		log_error("%zu collectors; at most %d can be told apart", s->nslots, SELF_OWNER);
		abort();
	}
	s->slots = xcalloc(s->nslots, sizeof(*s->slots));
	for (size_t i = 0; i < s->nslots; i++) {
		s->slots[i].ops = collectors_at(i);
		setup_slot(s, &s->slots[i], o);
		s->every |= bit(i);
		if (s->slots[i].status.state == COLLECTOR_ENABLED)
			s->enabled |= bit(i);
	}
	return s;
}

void scrape_start(struct scrape *s)
{
	/* A first collection right away, before any request: every process running now is put in
	 * its group (and the bpf collector's programs count it there) from the start, not from the
	 * second scrape on. Its result is not served: a request waits for a collection of its own.
	 */
	s->collection_wanted = true;
	s->wanted_run = s->enabled;
	s->priming = true;
	int rc = pthread_create(&s->collector, NULL, collector_main, s);
	if (rc != 0) {
		log_error("cannot start the collecting thread: %s", strerror(rc));
		exit(EXIT_FAILURE);
	}
	s->running = true;
}

void scrape_free(struct scrape *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	s->stopping = true;
	pthread_cond_signal(&s->wanted);
	pthread_mutex_unlock(&s->lock);
	if (s->running)
		pthread_join(s->collector, NULL);
	for (size_t i = 0; i < s->nslots; i++)
		if (s->slots[i].status.state == COLLECTOR_ENABLED && s->slots[i].ops->destroy)
			s->slots[i].ops->destroy(s->slots[i].state);
	free(s->slots);
	for (int f = 0; f < FORMATS; f++) {
		buf_free(&s->rendered[f].body);
		buf_free(&s->rendered[f].gz);
	}
	self_free(s->self);
	expo_free(s->building);
	expo_free(s->served);
	read_errors_free(s->env.read_errors);
	events_free(s->env.events);
	group_link_free(s->env.link);
	groups_config_free(s->env.groups);
	pthread_cond_destroy(&s->finished);
	pthread_cond_destroy(&s->wanted);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static ptrdiff_t slot_named(const struct scrape *s, const char *name)
{
	for (size_t i = 0; i < s->nslots; i++)
		if (strcmp(s->slots[i].ops->name, name) == 0)
			return (ptrdiff_t)i;
	return -1;
}

/* Each collector's samples here are its own, so that a request for some collectors gets their
 * duration and success only. */
static void expose_collector_stats(struct scrape *s, uint64_t run)
{
	expo_family(s->building, "kobs_scrape_collector_duration_seconds", METRIC_GAUGE, "seconds",
	            "How long each collector took in this scrape.");
	for (size_t i = 0; i < s->nslots; i++) {
		if (!(run & bit(i)))
			continue;
		struct label l = {"collector", s->slots[i].ops->name};
		expo_set_owner(s->building, (unsigned)i);
		expo_sample(s->building, &l, 1, s->slots[i].run_duration);
	}
	expo_family(
	    s->building, "kobs_scrape_collector_success", METRIC_GAUGE, NULL,
	    "Whether each collector succeeded in this scrape (1) or failed (0); a collector "
	    "that failed to start, or may not run without a privilege, is listed with 0.");
	for (size_t i = 0; i < s->nslots; i++) {
		bool failed = s->slots[i].status.state == COLLECTOR_FAILED;
		if (!(run & bit(i)) && !failed)
			continue;
		struct label l = {"collector", s->slots[i].ops->name};
		expo_set_owner(s->building, (unsigned)i);
		expo_sample(s->building, &l, 1, !failed && s->slots[i].run_success ? 1 : 0);
	}
	/* With kobs_scrape_collector_success{collector="bpf"}, tells a BPF collector that is off
	 * because the daemon runs unprivileged (normal) from one that was asked for and failed. */
	ptrdiff_t bpf = slot_named(s, "bpf");
	expo_set_owner(s->building, bpf >= 0 ? (unsigned)bpf : SELF_OWNER);
	expo_family(s->building, "kobs_bpf_requested", METRIC_GAUGE, NULL,
	            "1 when the bpf collector was asked for on the command line "
	            "(--collector.bpf, as systemd/kobsd-bpf.conf does), 0 when it only runs if "
	            "permitted.");
	expo_sample(s->building, NULL, 0, bpf >= 0 && s->slots[bpf].status.requested ? 1 : 0);
	expo_set_owner(s->building, SELF_OWNER);
}

/* The proof that scrapes share collections: under concurrent requests, collections grow slower
 * than requests. */
static void expose_scrape_counts(struct expo *e, uint64_t requests, uint64_t collections)
{
	expo_family(e, "kobs_scrape_requests", METRIC_COUNTER, NULL,
	            "Requests for the metrics since the daemon started, as counted when this "
	            "collection began.");
	expo_sample(e, NULL, 0, (double)requests);
	expo_family(e, "kobs_scrape_collections", METRIC_COUNTER, NULL,
	            "Collections run since the daemon started, this one included; requests that "
	            "arrive while one runs share it instead of running their own.");
	expo_sample(e, NULL, 0, (double)collections);
}

/* Runs without the lock: `collecting` keeps every other thread away from the model. The counts
 * are those taken under the lock when the collection began. */
static void collect_all(struct scrape *s, uint64_t run, uint64_t requests, uint64_t collections)
{
	expo_reset(s->building);
	for (size_t i = 0; i < s->nslots; i++) {
		struct slot *slot = &s->slots[i];
		if (!(run & bit(i)))
			continue;
		expo_set_owner(s->building, (unsigned)i);
		double start = monotonic_seconds();
		int rc = slot->ops->collect(slot->state, &s->env, s->building);
		slot->run_duration = monotonic_seconds() - start;
		/* Say it once when a collector starts failing, not on every scrape. */
		if (rc < 0 && (slot->run_success || !slot->run_once))
			log_warn("collector %s failed; see kobs_procfs_read_errors_total",
			         slot->ops->name);
		slot->run_success = rc == 0;
		slot->run_once = true;
		if (slot->ops->note)
			slot->ops->note(slot->state, slot->run_note, sizeof(slot->run_note));
	}
	expose_collector_stats(s, run);
	if (s->exporter_metrics)
		expose_scrape_counts(s->building, requests, collections);
	read_errors_expose(s->env.read_errors, s->building);
	self_build_info(s->building);
	if (s->exporter_metrics)
		self_collect(s->self, s->building);
}

/* The collectors to run for a request that asks for `show`: those of them that are enabled, and
 * what they need. */
static uint64_t to_run(const struct scrape *s, uint64_t show)
{
	uint64_t run = show & s->enabled;
	for (size_t i = 0; i < s->nslots; i++) {
		const char *needs = s->slots[i].ops->needs;
		ptrdiff_t j = needs && (run & bit(i)) ? slot_named(s, needs) : -1;
		if (j >= 0)
			run |= bit((size_t)j) & s->enabled;
	}
	return run;
}

/* Wait until a collection that ran at least `run` has finished since the call: the one under way
 * if it runs them all, else the next, which is told to. Called and returns with the lock held. */
static void collect_or_join(struct scrape *s, uint64_t run)
{
	/* The collection of the start began before any request: one that arrives meanwhile waits
	 * for it to end and has one of its own, so that no answer predates its request by more
	 * than a shared collection's. */
	while (s->priming)
		pthread_cond_wait(&s->finished, &s->lock);
	unsigned long seen = s->generation;
	for (;;) {
		if (s->generation != seen && covers(s->served_run, run))
			return;
		bool joined = s->collecting && covers(s->collecting_run, run);
		if (!joined && !(s->collection_wanted && covers(s->wanted_run, run))) {
			s->wanted_run |= run;
			s->collection_wanted = true;
			pthread_cond_signal(&s->wanted);
		}
		pthread_cond_wait(&s->finished, &s->lock);
	}
}

/* Run one collection; the lock is held on entry and on return. */
static void run_collection(struct scrape *s)
{
	uint64_t run = s->wanted_run;
	s->wanted_run = 0;
	s->collection_wanted = false;
	s->collecting = true;
	s->collecting_run = run;
	s->started = monotonic_seconds();
	s->collections++;
	uint64_t requests = s->requests, collections = s->collections;
	pthread_mutex_unlock(&s->lock);
	collect_all(s, run, requests, collections);
	pthread_mutex_lock(&s->lock);
	s->collecting = false;
	s->generation++;
	s->last_finished = monotonic_seconds();
	s->last_duration = s->last_finished - s->started;
	struct expo *done = s->building;
	s->building = s->served;
	s->served = done;
	s->served_run = run;
	s->last_series = expo_series(s->served);
	for (size_t i = 0; i < s->nslots; i++) {
		if (!(run & bit(i)))
			continue;
		s->slots[i].status.last_duration = s->slots[i].run_duration;
		s->slots[i].status.last_success = s->slots[i].run_success;
		s->slots[i].status.collected_once = s->slots[i].run_once;
		if (s->slots[i].run_note[0])
			memcpy(s->slots[i].status.why, s->slots[i].run_note,
			       sizeof(s->slots[i].status.why));
	}
	for (int f = 0; f < FORMATS; f++) {
		s->rendered[f].have_body = false;
		s->rendered[f].have_gz = false;
	}
	s->priming = false;
	pthread_cond_broadcast(&s->finished);
}

/* Every collection runs on this one thread, whichever HTTP thread asked for it: libproc2 keeps
 * read buffers per thread (two of 128 KiB) and malloc an arena per thread, which a collection
 * moving between the HTTP server's threads would multiply. */
static void *collector_main(void *arg)
{
	struct scrape *s = arg;
	pthread_mutex_lock(&s->lock);
	for (;;) {
		while (!s->collection_wanted && !s->stopping)
			pthread_cond_wait(&s->wanted, &s->lock);
		if (s->stopping)
			break;
		run_collection(s);
		/* A collection frees as much as it allocates (libproc2's results, classification
		 * buffers). Its free pages go back with the served model's, once per scrape: here
		 * after a collection no request waits for (the first), otherwise in scrape_serve()
		 * once the last request has its answer. */
		if (s->in_flight == 0) {
			release_served(s);
			pthread_mutex_unlock(&s->lock);
			malloc_trim(0);
			pthread_mutex_lock(&s->lock);
		}
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

/* Every request has had its answer: the served model and its renderings will not be read again
 * (a new request waits for a new collection), so they need not stay resident until the next
 * scrape, typically 15 to 60 s away. Called with the lock held. */
static void release_served(struct scrape *s)
{
	expo_free(s->served);
	s->served = expo_new();
	s->served_run = 0;
	for (int f = 0; f < FORMATS; f++) {
		buf_free(&s->rendered[f].body);
		buf_free(&s->rendered[f].gz);
		s->rendered[f].have_body = false;
		s->rendered[f].have_gz = false;
	}
}

/* A request for every collector: rendered (and compressed) once per collection and format. */
static int serve_all(struct scrape *s, enum expo_format format, bool gzip, scrape_consumer consume,
                     void *arg)
{
	struct rendering *r = &s->rendered[format < FORMATS ? format : EXPO_TEXT];
	if (!r->have_body) {
		buf_reset(&r->body);
		expo_write(s->served, format, &r->body);
		r->have_body = true;
	}
	if (gzip && !r->have_gz) {
		if (gzip_compress(r->body.data, r->body.len, &r->gz) < 0)
			return -1;
		r->have_gz = true;
	}
	if (gzip)
		consume(r->gz.data, r->gz.len, arg);
	else
		consume(r->body.data, r->body.len, arg);
	return 0;
}

/* A request for some collectors: its own rendering, of their samples and the self metrics. */
static int serve_some(struct scrape *s, uint64_t show, enum expo_format format, bool gzip,
                      scrape_consumer consume, void *arg)
{
	struct buf body, gz;
	buf_init(&body);
	buf_init(&gz);
	int rc = 0;
	expo_write_owned(s->served, format, show | bit(SELF_OWNER), &body);
	if (!gzip)
		consume(body.data, body.len, arg);
	else if (gzip_compress(body.data, body.len, &gz) == 0)
		consume(gz.data, gz.len, arg);
	else
		rc = -1;
	buf_free(&body);
	buf_free(&gz);
	return rc;
}

int scrape_serve(struct scrape *s, const struct scrape_selection *sel, enum expo_format format,
                 bool gzip, scrape_consumer consume, void *arg)
{
	uint64_t show = sel && sel->slots ? sel->slots : s->every;
	pthread_mutex_lock(&s->lock);
	s->requests++;
	s->in_flight++;
	collect_or_join(s, to_run(s, show));
	int rc = show == s->every ? serve_all(s, format, gzip, consume, arg)
	                          : serve_some(s, show, format, gzip, consume, arg);
	bool released = --s->in_flight == 0;
	if (released)
		release_served(s);
	pthread_mutex_unlock(&s->lock);
	if (released) /* the collection's and the served model's pages (see collector_main) */
		malloc_trim(0);
	return rc;
}

void scrape_selection_init(struct scrape_selection *sel, struct scrape *s)
{
	sel->scrape = s;
	sel->slots = 0;
	sel->error[0] = '\0';
}

/* `name` as the client sent it, safe to quote in a plain-text answer: printable ASCII, cut. */
static void quoted_name(char *out, size_t len, const char *name)
{
	size_t n = 0;
	for (; name[n] && n < 40 && n + 1 < len; n++)
		out[n] = name[n] > ' ' && name[n] < 0x7f ? name[n] : '?';
	out[n] = '\0';
	if (name[n] && len > n + 4)
		memcpy(out + n, "...", 4);
}

int scrape_select(struct scrape_selection *sel, const char *name)
{
	if (sel->error[0])
		return -1;
	struct scrape *s = sel->scrape;
	char known[128], shown[48];
	collectors_names(known, sizeof(known));
	if (!name || !name[0]) {
		snprintf(sel->error, sizeof(sel->error),
		         "collect[] needs a collector name (known: %s)\n", known);
		return -1;
	}
	ptrdiff_t i = slot_named(s, name);
	quoted_name(shown, sizeof(shown), name);
	if (i < 0) {
		snprintf(sel->error, sizeof(sel->error),
		         "unknown collector '%s' in collect[] (known: %s)\n", shown, known);
		return -1;
	}
	pthread_mutex_lock(&s->lock);
	bool disabled = s->slots[i].status.state == COLLECTOR_DISABLED;
	if (disabled)
		snprintf(
		    sel->error, sizeof(sel->error),
		    "collector '%s' in collect[] is disabled (%s); --collector.%s turns it on\n",
		    shown, s->slots[i].status.why, shown);
	pthread_mutex_unlock(&s->lock);
	if (disabled)
		return -1;
	sel->slots |= bit((size_t)i);
	return 0;
}

bool scrape_reconfigure(struct scrape *s, struct groups_config *groups)
{
	pthread_mutex_lock(&s->lock);
	if (groups_config_same(s->env.groups, groups)) {
		pthread_mutex_unlock(&s->lock);
		groups_config_free(groups);
		return false;
	}
	/* Collectors read the configuration without the lock while they collect. */
	while (s->collecting)
		pthread_cond_wait(&s->finished, &s->lock);
	struct groups_config *old = s->env.groups;
	s->env.groups = groups;
	group_link_set_config(s->env.link, groups);
	for (size_t i = 0; i < s->nslots; i++)
		if (s->slots[i].status.state == COLLECTOR_ENABLED && s->slots[i].ops->reconfigure)
			s->slots[i].ops->reconfigure(s->slots[i].state, &s->env);
	pthread_mutex_unlock(&s->lock);
	groups_config_free(old);
	return true;
}

struct events *scrape_events(struct scrape *s)
{
	return s->env.events;
}

size_t scrape_status(struct scrape *s, struct collector_status *out, size_t max)
{
	size_t n = 0;
	pthread_mutex_lock(&s->lock);
	for (; n < s->nslots && n < max; n++)
		out[n] = s->slots[n].status;
	pthread_mutex_unlock(&s->lock);
	return n;
}

void scrape_summary(struct scrape *s, struct scrape_summary *out)
{
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&s->lock);
	double now = monotonic_seconds();
	out->series = s->last_series;
	out->last_duration = s->last_duration;
	out->last_age = s->last_finished > 0 ? now - s->last_finished : -1;
	out->busy_for = s->collecting ? now - s->started : 0;
	for (size_t i = 0; i < s->nslots; i++) {
		const struct collector_status *st = &s->slots[i].status;
		if (st->state == COLLECTOR_ENABLED)
			out->collectors_enabled++;
		if ((st->state == COLLECTOR_FAILED && !collector_status_expected_off(st)) ||
		    (st->state == COLLECTOR_ENABLED && st->collected_once && !st->last_success))
			out->collectors_failed++;
	}
	pthread_mutex_unlock(&s->lock);
}
