#include "groups_config.h"

#define PCRE2_CODE_UNIT_WIDTH 8

#include <fnmatch.h>
#include <limits.h>
#include <pcre2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "config_yaml.h"
#include "name_template.h"
#include "utf8.h"
#include "xalloc.h"

#define GROUP_NAME_MAX 255
/* process-exporter's default, used when an entry has no `name`. */
#define DEFAULT_NAME_TEMPLATE "{{.ExeBase}}"

/* Matching happens once per process lifetime, but a catastrophic regex on a long command line
 * must still not hang a scrape: past these limits a regex counts as not matching. PCRE2's match
 * limit applies to each starting position, and an unanchored regex such as (.*x)* tries every
 * one, so a budget of steps (auto-callouts) bounds the whole search: a fixed part, plus some
 * steps per byte so that linear regexes on long command lines (a Java class path) still finish.
 * The same number bounds each starting position. */
#define REGEX_MATCH_LIMIT    1000000
#define REGEX_DEPTH_LIMIT    10000
#define REGEX_HEAP_LIMIT_KIB 4096
#define REGEX_STEPS          1000000
#define REGEX_STEPS_PER_BYTE 16

struct strlist {
	char **items;
	size_t n;
};

struct regexlist {
	pcre2_code **items;
	size_t n;
};

struct entry {
	struct name_template *name;
	struct strlist comm, exe, unit, user;
	struct regexlist cmdline, cgroup;
	bool per_process;
	bool threads;        /* threads: series by thread name */
	bool wchan;          /* wchan: sleeping threads by wait channel */
	int children;        /* 0, 1, or -1 until the `processes` default is known */
	bool match_all;      /* the built-in entry of every other process */
	bool kernel_threads; /* the built-in entry of kernel threads (groups_config_default) */
};

struct groups_config {
	char *text; /* the source, for groups_config_same; NULL for the built-in config */
	size_t len;
	struct entry *entries;
	size_t n;
	struct groups_settings settings;
	struct groups_bpf bpf;
	char *bpf_strings[GROUPS_BPF_SYSCALLS + 1]; /* what `bpf` points to */
	struct groups_events events;
	char *event_strings[GROUPS_BPF_SYSCALLS]; /* what `events` points to */

	/* Scratch memory for groups_config_match. */
	pcre2_match_context *match_context;
	pcre2_match_data *match_data;
	struct buf cmdline;  /* the command line joined with spaces */
	struct buf subject;  /* what a regex sees of it, or of the cgroup: see go_utf8 */
	struct buf exe_base; /* {{.ExeBase}} */
	struct name_match *matches;
	size_t nmatches, matches_cap;
	unsigned long steps, step_budget; /* of the regex being matched */
};

/* ---- building and freeing ---- */

static struct groups_config *config_new(void)
{
	struct groups_config *c = xcalloc(1, sizeof(*c));
	c->settings = (struct groups_settings){.per_process_limit = 100,
	                                       .group_limit = 1000,
	                                       .group_expiry_seconds = 300,
	                                       .thread_limit = 1000,
	                                       .children = true};
	c->bpf.programs = (1u << GROUPS_BPF_PROGRAMS) - 1;
	/* No syscall is timed unless bpf.syscalls lists it: while the syscalls program runs,
	 * every syscall of the system passes through it. */
	c->bpf.ungrouped = "ungrouped";
	c->events = (struct groups_events){
	    .threshold_ns = {[GROUPS_EVENT_RUNQUEUE] = 100000000ull,
	                     [GROUPS_EVENT_OFFCPU] = GROUPS_EVENTS_OFF,
	                     [GROUPS_EVENT_BLOCK_IO] = 500000000ull},
	    .per_second = 5,
	};
	buf_init(&c->cmdline);
	buf_init(&c->subject);
	buf_init(&c->exe_base);
	return c;
}

/* The scratch memory matching needs, sized for the regex with the most groups. */
/* Called by PCRE2 before every item of a regex (PCRE2_AUTO_CALLOUT). */
static int count_step(pcre2_callout_block *block, void *data)
{
	(void)block;
	struct groups_config *c = data;
	return ++c->steps > c->step_budget ? PCRE2_ERROR_MATCHLIMIT : 0;
}

static void config_prepare_matching(struct groups_config *c)
{
	uint32_t most = 0;
	for (size_t i = 0; i < c->n; i++) {
		const struct regexlist *lists[] = {&c->entries[i].cmdline, &c->entries[i].cgroup};
		for (size_t l = 0; l < 2; l++) {
			for (size_t j = 0; j < lists[l]->n; j++) {
				uint32_t groups = 0;
				pcre2_pattern_info(lists[l]->items[j], PCRE2_INFO_CAPTURECOUNT,
				                   &groups);
				if (groups > most)
					most = groups;
			}
		}
	}
	c->match_context = pcre2_match_context_create(NULL);
	c->match_data = pcre2_match_data_create(most + 1, NULL);
	if (!c->match_context || !c->match_data) {
		fputs("kobsd: out of memory\n", stderr);
		abort();
	}
	pcre2_set_depth_limit(c->match_context, REGEX_DEPTH_LIMIT);
	pcre2_set_heap_limit(c->match_context, REGEX_HEAP_LIMIT_KIB);
	pcre2_set_callout(c->match_context, count_step, c);
}

static void strlist_free(struct strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->items[i]);
	free(l->items);
}

static void regexlist_free(struct regexlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		pcre2_code_free(l->items[i]);
	free(l->items);
}

static void entry_free(struct entry *e)
{
	name_template_free(e->name);
	strlist_free(&e->comm);
	strlist_free(&e->exe);
	strlist_free(&e->unit);
	strlist_free(&e->user);
	regexlist_free(&e->cmdline);
	regexlist_free(&e->cgroup);
}

void groups_config_free(struct groups_config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		entry_free(&c->entries[i]);
	free(c->entries);
	free(c->text);
	pcre2_match_context_free(c->match_context);
	pcre2_match_data_free(c->match_data);
	buf_free(&c->cmdline);
	buf_free(&c->subject);
	buf_free(&c->exe_base);
	free(c->matches);
	for (size_t i = 0; i < sizeof(c->bpf_strings) / sizeof(c->bpf_strings[0]); i++)
		free(c->bpf_strings[i]);
	for (size_t i = 0; i < c->events.nsyscalls; i++)
		free(c->event_strings[i]);
	free(c);
}

static struct entry *add_entry(struct groups_config *c)
{
	c->entries = xreallocarray(c->entries, c->n + 1, sizeof(*c->entries));
	struct entry *e = &c->entries[c->n++];
	memset(e, 0, sizeof(*e));
	e->children = -1;
	return e;
}

static struct name_template *builtin_template(const char *text)
{
	char err[128];
	size_t offset;
	struct name_template *t =
	    name_template_parse(text, strlen(text), &offset, err, sizeof(err));
	if (!t) {
		fprintf(stderr, "kobsd: built-in template %s: %s\n", text, err);
		abort();
	}
	return t;
}

/* Kernel threads first, in one group: each has its own name (kworker/0:1-events, changing as
 * it works), which would make a group of each. */
static void add_builtin_entries(struct groups_config *c)
{
	struct entry *e = add_entry(c);
	e->name = builtin_template("kernel");
	e->kernel_threads = true;
	e = add_entry(c);
	e->name = builtin_template("{{.Comm}}");
	e->match_all = true;
}

struct groups_config *groups_config_default(void)
{
	struct groups_config *c = config_new();
	add_builtin_entries(c);
	for (size_t i = 0; i < c->n; i++)
		c->entries[i].children = c->settings.children;
	config_prepare_matching(c);
	return c;
}

/* ---- reading the YAML ---- */

struct parse {
	yaml_document_t doc;
	const char *name;
	struct groups_config *c;
	char *err;
	size_t errlen;
	int events_syscalls; /* the node of events.syscalls, 0 if none */
};

static int fail_at(struct parse *p, const yaml_node_t *node, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail_at(struct parse *p, const yaml_node_t *node, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	config_yaml_error(p->err, p->errlen, p->name, node ? &node->start_mark : NULL, fmt, ap);
	va_end(ap);
	return -1;
}

static yaml_node_t *node_at(struct parse *p, int index)
{
	return yaml_document_get_node(&p->doc, index);
}

static const char *scalar(const yaml_node_t *node)
{
	return node && node->type == YAML_SCALAR_NODE ? (const char *)node->data.scalar.value
	                                              : NULL;
}

/* YAML's null: an empty value, ~ or null, unquoted. */
static bool is_null(const yaml_node_t *node)
{
	const char *s = scalar(node);
	return s && node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	       (!s[0] || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 || strcmp(s, "Null") == 0 ||
	        strcmp(s, "NULL") == 0);
}

/* A scalar as text; an error naming `what` for a list, a mapping or a NUL inside. */
static int want_text(struct parse *p, const yaml_node_t *node, const char *what, const char **out)
{
	*out = scalar(node);
	if (!*out)
		return fail_at(p, node, "%s must be a single value, not a %s", what,
		               node->type == YAML_SEQUENCE_NODE ? "list" : "mapping");
	if (strlen(*out) != node->data.scalar.length)
		return fail_at(p, node, "%s must not contain NUL bytes", what);
	return 0;
}

/* Whether the key of `pair` is also the key of an earlier pair of `map`. */
static bool key_repeated(struct parse *p, const yaml_node_t *map, const yaml_node_pair_t *pair)
{
	const char *k = scalar(node_at(p, pair->key));
	for (const yaml_node_pair_t *q = map->data.mapping.pairs.start; k && q < pair; q++) {
		const char *prev = scalar(node_at(p, q->key));
		if (prev && strcmp(prev, k) == 0)
			return true;
	}
	return false;
}

/* The key of `pair` as a string, checked for repeats. */
static const char *pair_key(struct parse *p, const yaml_node_t *map, const yaml_node_pair_t *pair,
                            const char *where)
{
	yaml_node_t *knode = node_at(p, pair->key);
	const char *k = scalar(knode);
	if (!k || strlen(k) != knode->data.scalar.length) {
		fail_at(p, knode, "keys must be plain words");
		return NULL;
	}
	if (key_repeated(p, map, pair)) {
		fail_at(p, knode, "%s%s is given twice", where, k);
		return NULL;
	}
	return k;
}

static int parse_bool(struct parse *p, const yaml_node_t *node, const char *key, bool *out)
{
	const char *s = scalar(node);
	if (s && (strcmp(s, "true") == 0 || strcmp(s, "True") == 0)) {
		*out = true;
		return 0;
	}
	if (s && (strcmp(s, "false") == 0 || strcmp(s, "False") == 0)) {
		*out = false;
		return 0;
	}
	return fail_at(p, node, "%s must be true or false (got %s%s%s)", key, s ? "'" : "",
	               s ? s : "a list or mapping", s ? "'" : "");
}

/* Digits only, at most UINT_MAX; 0 when there are none. */
static bool parse_digits(const char *s, size_t len, unsigned *out)
{
	unsigned long long v = 0;
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
		if (v > UINT_MAX)
			return false;
	}
	*out = (unsigned)v;
	return true;
}

static int parse_unsigned(struct parse *p, const yaml_node_t *node, const char *key, unsigned min,
                          unsigned *out)
{
	const char *s = scalar(node);
	if (!s || !parse_digits(s, strlen(s), out) || *out < min)
		return fail_at(p, node, "%s must be a whole number from %u to %u (got %s%s%s)", key,
		               min, UINT_MAX, s ? "'" : "", s ? s : "a list or mapping",
		               s ? "'" : "");
	return 0;
}

/* "300", "300s", "5m" or "1h": seconds. */
static int parse_duration(struct parse *p, const yaml_node_t *node, const char *key, unsigned *out)
{
	const char *s = scalar(node);
	size_t len = s ? strlen(s) : 0;
	unsigned scale = 1, v;
	if (len && (s[len - 1] == 's' || s[len - 1] == 'm' || s[len - 1] == 'h')) {
		scale = s[len - 1] == 'h' ? 3600 : s[len - 1] == 'm' ? 60 : 1;
		len--;
	}
	if (!s || !parse_digits(s, len, &v) || v > UINT_MAX / scale)
		return fail_at(p, node,
		               "%s must be a whole number of seconds, or one followed by s, m or "
		               "h such as 300s, 5m or 1h (got %s%s%s)",
		               key, s ? "'" : "", s ? s : "a list or mapping", s ? "'" : "");
	*out = v * scale;
	return 0;
}

/* A list of strings; a single value is refused as process-exporter refuses it. */
static int parse_strings(struct parse *p, const yaml_node_t *node, const char *key,
                         struct strlist *out)
{
	if (scalar(node))
		return fail_at(p, node, "%s must be a list, not a single value: write %s: ['%s']",
		               key, key, scalar(node));
	if (node->type != YAML_SEQUENCE_NODE)
		return fail_at(p, node, "%s must be a list of values, not a mapping", key);
	size_t n = (size_t)(node->data.sequence.items.top - node->data.sequence.items.start);
	if (n == 0)
		return fail_at(p, node, "%s is an empty list, which matches nothing", key);
	out->items = xcalloc(n, sizeof(*out->items));
	for (yaml_node_item_t *it = node->data.sequence.items.start;
	     it < node->data.sequence.items.top; it++) {
		const char *s;
		if (want_text(p, node_at(p, *it), "each item of a list", &s) < 0)
			return -1;
		out->items[out->n++] = xstrdup(s);
	}
	return 0;
}

static int parse_regexes(struct parse *p, const yaml_node_t *node, const char *key,
                         struct regexlist *out)
{
	struct strlist patterns = {0};
	int rc = parse_strings(p, node, key, &patterns);
	if (rc == 0)
		out->items = xcalloc(patterns.n, sizeof(*out->items));
	yaml_node_item_t *it =
	    node->type == YAML_SEQUENCE_NODE ? node->data.sequence.items.start : NULL;
	for (size_t i = 0; rc == 0 && i < patterns.n; i++, it++) {
		int code;
		PCRE2_SIZE offset;
		/* PCRE2_MATCH_INVALID_UTF: command lines are any bytes, and must still match.
		 * PCRE2_DOLLAR_ENDONLY: $ means the end, as in Go, not "before a final newline".
		 * PCRE2_AUTO_CALLOUT: count_step bounds the whole search. No JIT: a unit with
		 * MemoryDenyWriteExecute= forbids it, and each process is matched only once. */
		const uint32_t options =
		    PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_DOLLAR_ENDONLY | PCRE2_AUTO_CALLOUT;
		pcre2_code *re = pcre2_compile((PCRE2_SPTR)patterns.items[i], PCRE2_ZERO_TERMINATED,
		                               options, &code, &offset, NULL);
		if (!re) {
			PCRE2_UCHAR msg[256];
			pcre2_get_error_message(code, msg, sizeof(msg));
			rc = fail_at(p, node_at(p, *it),
			             "%s regex does not compile: %s (at offset %zu of the pattern)",
			             key, (const char *)msg, (size_t)offset);
			break;
		}
		out->items[out->n++] = re;
	}
	strlist_free(&patterns);
	return rc;
}

static int parse_name(struct parse *p, const yaml_node_t *node, struct entry *e)
{
	const char *text = DEFAULT_NAME_TEMPLATE;
	if (node && !is_null(node)) {
		if (want_text(p, node, "name", &text) < 0)
			return -1;
		if (!text[0]) /* process-exporter: an empty name is the default */
			text = DEFAULT_NAME_TEMPLATE;
	}
	char msg[200];
	size_t offset;
	name_template_free(e->name);
	e->name = name_template_parse(text, strlen(text), &offset, msg, sizeof(msg));
	if (!e->name)
		return fail_at(p, node, "name template: %s (at offset %zu of the template)", msg,
		               offset);
	return 0;
}

static int parse_entry(struct parse *p, const yaml_node_t *map)
{
	if (map->type != YAML_MAPPING_NODE)
		return fail_at(p, map,
		               "each process_names entry must be a mapping, such as "
		               "{name: \"{{.Comm}}\", comm: [bash]}");
	struct entry *e = add_entry(p->c);
	const yaml_node_t *name = NULL;
	for (yaml_node_pair_t *pair = map->data.mapping.pairs.start;
	     pair < map->data.mapping.pairs.top; pair++) {
		const char *k = pair_key(p, map, pair, "");
		yaml_node_t *v = node_at(p, pair->value);
		bool b = false;
		int rc;
		if (!k)
			return -1;
		if (strcmp(k, "name") == 0) {
			name = v;
			rc = 0;
		} else if (strcmp(k, "comm") == 0) {
			rc = parse_strings(p, v, k, &e->comm);
		} else if (strcmp(k, "exe") == 0) {
			rc = parse_strings(p, v, k, &e->exe);
		} else if (strcmp(k, "cmdline") == 0) {
			rc = parse_regexes(p, v, k, &e->cmdline);
		} else if (strcmp(k, "cgroup") == 0) {
			rc = parse_regexes(p, v, k, &e->cgroup);
		} else if (strcmp(k, "unit") == 0) {
			rc = parse_strings(p, v, k, &e->unit);
		} else if (strcmp(k, "user") == 0) {
			rc = parse_strings(p, v, k, &e->user);
		} else if (strcmp(k, "per_process") == 0) {
			rc = parse_bool(p, v, k, &e->per_process);
		} else if (strcmp(k, "children") == 0) {
			rc = parse_bool(p, v, k, &b);
			e->children = rc == 0 && b;
		} else if (strcmp(k, "threads") == 0) {
			rc = parse_bool(p, v, k, &e->threads);
		} else if (strcmp(k, "wchan") == 0) {
			rc = parse_bool(p, v, k, &e->wchan);
		} else {
			return fail_at(p, node_at(p, pair->key),
			               "unknown key '%s' in a process_names entry (expected name, "
			               "comm, exe, cmdline, cgroup, unit, user, per_process, "
			               "children, threads or wchan)",
			               k);
		}
		if (rc < 0)
			return -1;
	}
	if (!e->comm.n && !e->exe.n && !e->cmdline.n && !e->cgroup.n && !e->unit.n && !e->user.n)
		return fail_at(p, map,
		               "no matchers: an entry needs at least one of comm, exe, cmdline, "
		               "cgroup, unit or user");
	/* After the matchers, so that a template error is not reported before a typo in a key. */
	return parse_name(p, name, e);
}

static int parse_process_names(struct parse *p, const yaml_node_t *seq)
{
	if (seq->type != YAML_SEQUENCE_NODE)
		return fail_at(p, seq, "process_names must be a list of entries");
	for (yaml_node_item_t *it = seq->data.sequence.items.start;
	     it < seq->data.sequence.items.top; it++)
		if (parse_entry(p, node_at(p, *it)) < 0)
			return -1;
	return 0;
}

static int parse_processes(struct parse *p, const yaml_node_t *map)
{
	struct groups_settings *s = &p->c->settings;
	if (is_null(map))
		return 0;
	if (map->type != YAML_MAPPING_NODE)
		return fail_at(p, map, "processes must be a mapping of settings");
	for (yaml_node_pair_t *pair = map->data.mapping.pairs.start;
	     pair < map->data.mapping.pairs.top; pair++) {
		const char *k = pair_key(p, map, pair, "processes.");
		yaml_node_t *v = node_at(p, pair->value);
		int rc;
		if (!k)
			return -1;
		if (strcmp(k, "per_process_limit") == 0)
			rc = parse_unsigned(p, v, k, 0, &s->per_process_limit);
		else if (strcmp(k, "group_limit") == 0)
			rc = parse_unsigned(p, v, k, 1, &s->group_limit);
		else if (strcmp(k, "group_expiry") == 0)
			rc = parse_duration(p, v, k, &s->group_expiry_seconds);
		else if (strcmp(k, "children") == 0)
			rc = parse_bool(p, v, k, &s->children);
		else if (strcmp(k, "thread_limit") == 0)
			rc = parse_unsigned(p, v, k, 0, &s->thread_limit);
		else
			return fail_at(p, node_at(p, pair->key),
			               "unknown key processes.%s (expected per_process_limit, "
			               "group_limit, group_expiry, children or thread_limit)",
			               k);
		if (rc < 0)
			return -1;
	}
	return 0;
}

const char *const groups_bpf_program_names[GROUPS_BPF_PROGRAMS] = {
    "scheduler",       "block_io",     "syscalls",       "oom_kills",
    "tcp_retransmits", "packet_drops", "process_events", "task_iter",
};

/* Syscall numbers of the architecture the daemon was built for (generated from <sys/syscall.h>),
 * sorted by name. */
struct syscall_name {
	const char *name;
	int nr;
};
static const struct syscall_name syscall_table[] = {
#include "syscall_names.h"
};

static int by_syscall_name(const void *key, const void *item)
{
	return strcmp(key, ((const struct syscall_name *)item)->name);
}

int groups_syscall_number(const char *name)
{
	const struct syscall_name *s =
	    bsearch(name, syscall_table, sizeof(syscall_table) / sizeof(syscall_table[0]),
	            sizeof(syscall_table[0]), by_syscall_name);
	return s ? s->nr : -1;
}

static int parse_bpf_programs(struct parse *p, const yaml_node_t *node)
{
	struct strlist l = {0};
	int rc = parse_strings(p, node, "bpf.programs", &l);
	unsigned mask = 0;
	for (size_t i = 0; rc == 0 && i < l.n; i++) {
		size_t k = 0;
		while (k < GROUPS_BPF_PROGRAMS &&
		       strcmp(l.items[i], groups_bpf_program_names[k]) != 0)
			k++;
		if (k == GROUPS_BPF_PROGRAMS)
			rc = fail_at(p, node_at(p, node->data.sequence.items.start[i]),
			             "unknown bpf program '%s' (expected scheduler, block_io, "
			             "syscalls, oom_kills, tcp_retransmits, packet_drops, "
			             "process_events or task_iter)",
			             l.items[i]);
		mask |= 1u << k;
	}
	strlist_free(&l);
	if (rc == 0)
		p->c->bpf.programs = mask;
	return rc;
}

static int parse_bpf_syscalls(struct parse *p, const yaml_node_t *node)
{
	struct strlist l = {0};
	if (parse_strings(p, node, "bpf.syscalls", &l) < 0) {
		strlist_free(&l);
		return -1;
	}
	struct groups_bpf *b = &p->c->bpf;
	int rc = 0;
	if (l.n > GROUPS_BPF_SYSCALLS)
		rc = fail_at(p, node, "bpf.syscalls lists %zu syscalls; at most %d can be timed",
		             l.n, GROUPS_BPF_SYSCALLS);
	b->nsyscalls = 0;
	for (size_t i = 0; rc == 0 && i < l.n; i++) {
		const yaml_node_t *item = node_at(p, node->data.sequence.items.start[i]);
		int nr = groups_syscall_number(l.items[i]);
		if (nr < 0 || nr >= 1024) {
			rc = fail_at(p, item, "unknown syscall '%s' on this architecture",
			             l.items[i]);
			break;
		}
		for (size_t j = 0; j < b->nsyscalls; j++)
			if (b->syscall_nrs[j] == nr)
				rc = fail_at(p, item, "syscall '%s' is listed twice", l.items[i]);
		p->c->bpf_strings[i] = xstrdup(l.items[i]);
		b->syscalls[b->nsyscalls] = p->c->bpf_strings[i];
		b->syscall_nrs[b->nsyscalls++] = nr;
	}
	strlist_free(&l);
	return rc;
}

/* A group name, or false. */
static int parse_ungrouped(struct parse *p, const yaml_node_t *node)
{
	const char *s = scalar(node);
	if (s && (strcmp(s, "false") == 0 || strcmp(s, "False") == 0)) {
		p->c->bpf.ungrouped = NULL;
		return 0;
	}
	if (want_text(p, node, "bpf.ungrouped", &s) < 0)
		return -1;
	if (!*s)
		return fail_at(p, node,
		               "bpf.ungrouped must be a group name, or false to leave out "
		               "the processes outside every group");
	char **kept = &p->c->bpf_strings[GROUPS_BPF_SYSCALLS];
	free(*kept);
	*kept = xstrdup(s);
	p->c->bpf.ungrouped = *kept;
	return 0;
}

static int parse_bpf(struct parse *p, const yaml_node_t *map)
{
	if (is_null(map))
		return 0;
	if (map->type != YAML_MAPPING_NODE)
		return fail_at(p, map, "bpf must be a mapping of settings");
	for (yaml_node_pair_t *pair = map->data.mapping.pairs.start;
	     pair < map->data.mapping.pairs.top; pair++) {
		const char *k = pair_key(p, map, pair, "bpf.");
		yaml_node_t *v = node_at(p, pair->value);
		int rc;
		if (!k)
			return -1;
		if (strcmp(k, "programs") == 0) {
			rc = parse_bpf_programs(p, v);
		} else if (strcmp(k, "syscalls") == 0) {
			rc = parse_bpf_syscalls(p, v);
		} else if (strcmp(k, "ungrouped") == 0) {
			rc = parse_ungrouped(p, v);
		} else {
			return fail_at(
			    p, node_at(p, pair->key),
			    "unknown key bpf.%s (expected programs, syscalls or ungrouped)", k);
		}
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* ---- the events mapping ---- */

/* "250ms", "1.5s", "800us", "100ns", "2m": nanoseconds, at most an hour. */
static bool parse_latency(const char *s, unsigned long long *ns)
{
	static const struct {
		const char *unit;
		double ns;
	} units[] = {{"ns", 1}, {"us", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"m", 60e9}};
	size_t digits = strspn(s, "0123456789");
	size_t len = digits;
	if (s[len] == '.' && s[len + 1] >= '0' && s[len + 1] <= '9')
		len += 1 + strspn(s + len + 1, "0123456789");
	if (digits == 0 || len > 24)
		return false;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(s + len, units[i].unit) != 0)
			continue;
		char number[32];
		memcpy(number, s, len);
		number[len] = '\0';
		double v = strtod(number, NULL) * units[i].ns; /* the daemon keeps the C locale */
		if (!(v >= 0 && v <= 3600e9))
			return false;
		*ns = (unsigned long long)(v + 0.5);
		return true;
	}
	return false;
}

/* A threshold: a duration, or off (false). */
static int parse_threshold(struct parse *p, const yaml_node_t *node, const char *key,
                           unsigned long long *out)
{
	const char *s = scalar(node);
	if (s && (strcmp(s, "off") == 0 || strcmp(s, "false") == 0 || strcmp(s, "False") == 0)) {
		*out = GROUPS_EVENTS_OFF;
		return 0;
	}
	if (!s || !parse_latency(s, out))
		return fail_at(p, node,
		               "%s must be a duration such as 250ms, 1.5s, 800us or 100ns (at most "
		               "1h), or off (got %s%s%s)",
		               key, s ? "'" : "", s ? s : "a list or mapping", s ? "'" : "");
	return 0;
}

static int parse_event_syscalls(struct parse *p, const yaml_node_t *map)
{
	struct groups_events *ev = &p->c->events;
	if (map->type != YAML_MAPPING_NODE)
		return fail_at(p, map,
		               "events.syscalls must be a mapping of syscall names to thresholds, "
		               "such as {fsync: 100ms}");
	for (yaml_node_pair_t *pair = map->data.mapping.pairs.start;
	     pair < map->data.mapping.pairs.top; pair++) {
		const char *k = pair_key(p, map, pair, "events.syscalls.");
		if (!k)
			return -1;
		if (ev->nsyscalls == GROUPS_BPF_SYSCALLS)
			return fail_at(p, node_at(p, pair->key),
			               "events.syscalls lists more than %d syscalls",
			               GROUPS_BPF_SYSCALLS);
		unsigned long long ns;
		if (parse_threshold(p, node_at(p, pair->value), "a syscall's threshold", &ns) < 0)
			return -1;
		p->c->event_strings[ev->nsyscalls] = xstrdup(k);
		ev->syscalls[ev->nsyscalls] = p->c->event_strings[ev->nsyscalls];
		ev->syscall_ns[ev->nsyscalls++] = ns;
	}
	return 0;
}

static int parse_events(struct parse *p, const yaml_node_t *map)
{
	static const char *const latencies[GROUPS_EVENT_LATENCIES] = {"runqueue", "offcpu",
	                                                              "block_io"};
	struct groups_events *ev = &p->c->events;
	if (is_null(map))
		return 0;
	if (map->type != YAML_MAPPING_NODE)
		return fail_at(p, map, "events must be a mapping of settings");
	for (yaml_node_pair_t *pair = map->data.mapping.pairs.start;
	     pair < map->data.mapping.pairs.top; pair++) {
		const char *k = pair_key(p, map, pair, "events.");
		yaml_node_t *v = node_at(p, pair->value);
		int rc = -2;
		if (!k)
			return -1;
		for (int i = 0; i < GROUPS_EVENT_LATENCIES; i++)
			if (strcmp(k, latencies[i]) == 0) {
				char key[32];
				snprintf(key, sizeof(key), "events.%s", k);
				rc = parse_threshold(p, v, key, &ev->threshold_ns[i]);
			}
		if (rc != -2) {
			/* a latency kind */
		} else if (strcmp(k, "syscalls") == 0) {
			p->events_syscalls = pair->value;
			rc = parse_event_syscalls(p, v);
		} else if (strcmp(k, "rate_limit") == 0) {
			rc = parse_unsigned(p, v, "events.rate_limit", 1, &ev->per_second);
			if (rc == 0 && ev->per_second > 10000)
				rc = fail_at(
				    p, v,
				    "events.rate_limit must be a whole number from 1 to 10000 "
				    "(events of one kind a second)");
		} else {
			return fail_at(
			    p, node_at(p, pair->key),
			    "unknown key events.%s (expected runqueue, offcpu, block_io, "
			    "syscalls or rate_limit)",
			    k);
		}
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* A syscall threshold is for a timed syscall: bpf.syscalls may come after events. */
static int check_event_syscalls(struct parse *p)
{
	const struct groups_events *ev = &p->c->events;
	const struct groups_bpf *b = &p->c->bpf;
	const yaml_node_t *map = p->events_syscalls ? node_at(p, p->events_syscalls) : NULL;
	for (size_t i = 0; map && i < ev->nsyscalls; i++) {
		size_t j = 0;
		while (j < b->nsyscalls && strcmp(b->syscalls[j], ev->syscalls[i]) != 0)
			j++;
		if (j < b->nsyscalls)
			continue;
		const yaml_node_t *key = node_at(p, map->data.mapping.pairs.start[i].key);
		return fail_at(p, key,
		               "events.syscalls.%s: %s is not timed: list it in bpf.syscalls too",
		               ev->syscalls[i], ev->syscalls[i]);
	}
	return 0;
}

static int parse_root(struct parse *p)
{
	yaml_node_t *root = yaml_document_get_root_node(&p->doc);
	bool names = false;
	if (root && !is_null(root)) {
		if (root->type != YAML_MAPPING_NODE)
			return fail_at(p, root, "the top level must be a mapping of settings");
		for (yaml_node_pair_t *pair = root->data.mapping.pairs.start;
		     pair < root->data.mapping.pairs.top; pair++) {
			const char *k = pair_key(p, root, pair, "");
			yaml_node_t *v = node_at(p, pair->value);
			int rc;
			if (!k)
				return -1;
			if (strcmp(k, "process_names") == 0) {
				names = !is_null(v);
				rc = names ? parse_process_names(p, v) : 0;
			} else if (strcmp(k, "processes") == 0) {
				rc = parse_processes(p, v);
			} else if (strcmp(k, "bpf") == 0) {
				rc = parse_bpf(p, v);
			} else if (strcmp(k, "events") == 0) {
				rc = parse_events(p, v);
			} else {
				return fail_at(
				    p, node_at(p, pair->key),
				    "unknown key '%s' (expected process_names, processes, "
				    "bpf or events)",
				    k);
			}
			if (rc < 0)
				return -1;
		}
	}
	if (check_event_syscalls(p) < 0)
		return -1;
	/* No process_names, or a null one: the built-in groups, one per command name. An empty list
	 * ([]) is no groups at all. */
	if (!names)
		add_builtin_entries(p->c);
	/* Last, because `processes` may come after `process_names`. */
	for (size_t i = 0; i < p->c->n; i++)
		if (p->c->entries[i].children < 0)
			p->c->entries[i].children = p->c->settings.children;
	return 0;
}

int groups_config_parse(const char *name, const char *text, size_t len, struct groups_config **out,
                        char *err, size_t errlen)
{
	*out = NULL;
	if (config_yaml_check(name, text, len, err, errlen) < 0)
		return -1;
	struct parse p = {.name = name, .err = err, .errlen = errlen};
	yaml_parser_t parser;
	if (!yaml_parser_initialize(&parser))
		return fail_at(&p, NULL, "out of memory");
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &p.doc)) {
		config_yaml_parser_error(&parser, name, text, len, err, errlen);
		yaml_parser_delete(&parser);
		return -1;
	}
	yaml_parser_delete(&parser);

	p.c = config_new();
	int rc = parse_root(&p);
	yaml_document_delete(&p.doc);
	if (rc < 0) {
		groups_config_free(p.c);
		return -1;
	}
	p.c->text = xmalloc(len + 1);
	if (len)
		memcpy(p.c->text, text, len);
	p.c->text[len] = '\0';
	p.c->len = len;
	config_prepare_matching(p.c);
	*out = p.c;
	return 0;
}

int groups_config_load(const char *path, struct groups_config **out, char *err, size_t errlen)
{
	size_t len;
	*out = NULL;
	char *text = config_yaml_read(path, &len, err, errlen);
	if (!text)
		return -1;
	int rc = groups_config_parse(path, text, len, out, err, errlen);
	free(text);
	return rc;
}

bool groups_config_same(const struct groups_config *a, const struct groups_config *b)
{
	if (!a->text || !b->text)
		return !a->text && !b->text;
	return a->len == b->len && memcmp(a->text, b->text, a->len) == 0;
}

const struct groups_settings *groups_config_settings(const struct groups_config *c)
{
	return &c->settings;
}

const struct groups_bpf *groups_config_bpf(const struct groups_config *c)
{
	return &c->bpf;
}

const struct groups_events *groups_config_events(const struct groups_config *c)
{
	return &c->events;
}

size_t groups_config_entries(const struct groups_config *c)
{
	return c->n;
}

/* ---- matching ---- */

static bool in_list(const struct strlist *l, const char *s)
{
	for (size_t i = 0; s && i < l->n; i++)
		if (strcmp(l->items[i], s) == 0)
			return true;
	return false;
}

/* Go's filepath.Base, which process-exporter uses: trailing slashes do not count, "" is "."
 * and a path of only slashes is "/". */
static void go_base(struct buf *out, const char *path)
{
	size_t len = strlen(path);
	buf_reset(out);
	if (len == 0) {
		buf_puts(out, ".");
		return;
	}
	while (len > 1 && path[len - 1] == '/')
		len--;
	size_t start = len;
	while (start > 0 && path[start - 1] != '/')
		start--;
	if (start == len) /* only slashes */
		buf_puts(out, "/");
	else
		buf_append(out, path + start, len - start);
}

static bool argv0(const struct proc_identity *p)
{
	return p->argc > 0 && p->argv && p->argv[0];
}

static bool exe_matches(struct groups_config *c, const struct entry *e,
                        const struct proc_identity *p)
{
	if (!argv0(p))
		return false;
	go_base(&c->exe_base, p->argv[0]);
	for (size_t i = 0; i < e->exe.n; i++) {
		const char *want = e->exe.items[i];
		if (strcmp(want, strchr(want, '/') ? p->argv[0] : c->exe_base.data) == 0)
			return true;
	}
	return false;
}

static bool user_matches(const struct entry *e, const struct proc_identity *p)
{
	for (size_t i = 0; i < e->user.n; i++) {
		const char *want = e->user.items[i];
		unsigned uid;
		if (parse_digits(want, strlen(want), &uid) ? uid == p->uid
		                                           : p->user && strcmp(want, p->user) == 0)
			return true;
	}
	return false;
}

static bool unit_matches(const struct entry *e, const struct proc_identity *p)
{
	for (size_t i = 0; p->unit && i < e->unit.n; i++)
		if (fnmatch(e->unit.items[i], p->unit, 0) == 0)
			return true;
	return false;
}

static void add_match(struct groups_config *c, const char *name, const char *value, size_t len)
{
	if (c->nmatches == c->matches_cap) {
		c->matches_cap = c->matches_cap ? 2 * c->matches_cap : 8;
		c->matches = xreallocarray(c->matches, c->matches_cap, sizeof(*c->matches));
	}
	c->matches[c->nmatches++] = (struct name_match){.name = name, .value = value, .len = len};
}

/* Go's regexp reads each byte of an invalid UTF-8 sequence as one U+FFFD, which `.` and \S
 * match; PCRE2 (even with PCRE2_MATCH_INVALID_UTF) lets nothing match it. So the regexes see a
 * copy where each such byte is 0x1a (SUB, a character that `.`, \S and [^x] match as they match
 * U+FFFD in Go), byte for byte, and captures are cut from the original at the same offsets. */
static void go_utf8(struct buf *out, const char *s, size_t len)
{
	buf_reset(out);
	buf_reserve(out, len);
	const unsigned char *u = (const unsigned char *)s;
	for (size_t i = 0; i < len;) {
		size_t n = utf8_char(u + i, len - i);
		if (n) {
			memcpy(out->data + out->len, s + i, n);
			out->len += n;
			i += n;
		} else {
			out->data[out->len++] = 0x1a;
			i++;
		}
	}
	out->data[out->len] = '\0';
}

/* Match `re` on `len` bytes of `original` (seen as c->subject); on a match, add its named groups
 * to c->matches (later ones win, as in process-exporter; a group that took no part is ""). A
 * regex that hits the match limits does not match. */
static bool regex_matches(struct groups_config *c, const pcre2_code *re, const char *original,
                          size_t len)
{
	c->steps = 0;
	c->step_budget = REGEX_STEPS + REGEX_STEPS_PER_BYTE * (unsigned long)len;
	pcre2_set_match_limit(c->match_context,
	                      c->step_budget < UINT32_MAX ? (uint32_t)c->step_budget : UINT32_MAX);
	int rc = pcre2_match(re, (PCRE2_SPTR)c->subject.data, len, 0, 0, c->match_data,
	                     c->match_context);
	if (rc < 0)
		return false;
	uint32_t count = 0, size = 0;
	PCRE2_SPTR table = NULL;
	pcre2_pattern_info(re, PCRE2_INFO_NAMECOUNT, &count);
	pcre2_pattern_info(re, PCRE2_INFO_NAMEENTRYSIZE, &size);
	pcre2_pattern_info(re, PCRE2_INFO_NAMETABLE, &table);
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(c->match_data);
	uint32_t pairs = pcre2_get_ovector_count(c->match_data);
	size_t first = c->nmatches;
	for (uint32_t i = 0; i < count; i++, table += size) {
		uint32_t group = (uint32_t)(table[0] << 8 | table[1]);
		const char *name = (const char *)table + 2;
		bool set = group < pairs && ov[2 * group] != PCRE2_UNSET;
		if (!set) {
			/* (?J) allows one name for several groups: keep the one that took part. */
			bool named = false;
			for (size_t j = first; j < c->nmatches; j++)
				named = named || strcmp(c->matches[j].name, name) == 0;
			if (named)
				continue;
		}
		add_match(c, name, set ? original + ov[2 * group] : "",
		          set ? ov[2 * group + 1] - ov[2 * group] : 0);
	}
	return true;
}

static bool cgroup_matches(struct groups_config *c, const struct entry *e,
                           const struct proc_identity *p)
{
	if (!p->cgroup)
		return false;
	size_t len = strlen(p->cgroup);
	go_utf8(&c->subject, p->cgroup, len);
	for (size_t i = 0; i < e->cgroup.n; i++)
		if (regex_matches(c, e->cgroup.items[i], p->cgroup, len))
			return true;
	return false;
}

static bool cmdline_matches(struct groups_config *c, const struct entry *e,
                            const struct proc_identity *p)
{
	/* Kernel threads have no command line: the subject is "", as in process-exporter. */
	buf_reset(&c->cmdline);
	buf_reserve(&c->cmdline, 0);
	c->cmdline.data[0] = '\0';
	for (size_t i = 0; p->argv && i < p->argc; i++) {
		if (i)
			buf_putc(&c->cmdline, ' ');
		if (p->argv[i])
			buf_puts(&c->cmdline, p->argv[i]);
	}
	go_utf8(&c->subject, c->cmdline.data, c->cmdline.len);
	for (size_t i = 0; i < e->cmdline.n; i++)
		if (!regex_matches(c, e->cmdline.items[i], c->cmdline.data, c->cmdline.len))
			return false;
	return true;
}

/* Cheap matchers first; cgroup captures before cmdline ones, so that cmdline's win a tie. */
static bool entry_matches(struct groups_config *c, const struct entry *e,
                          const struct proc_identity *p)
{
	c->nmatches = 0;
	if (e->match_all)
		return true;
	if (e->kernel_threads)
		return (p->pid == 2 || p->ppid == 2) && p->argc == 0;
	return (!e->comm.n || in_list(&e->comm, p->comm)) && (!e->exe.n || exe_matches(c, e, p)) &&
	       (!e->user.n || user_matches(e, p)) && (!e->unit.n || unit_matches(e, p)) &&
	       (!e->cgroup.n || cgroup_matches(c, e, p)) &&
	       (!e->cmdline.n || cmdline_matches(c, e, p));
}

static long long whole_seconds(double t)
{
	return t >= 0 && t < 9e18 ? (long long)t : 0;
}

bool groups_config_match(struct groups_config *c, const struct proc_identity *p,
                         struct group_match *m, struct buf *name)
{
	for (size_t i = 0; i < c->n; i++) {
		const struct entry *e = &c->entries[i];
		if (!entry_matches(c, e, p))
			continue;
		char uid[16];
		snprintf(uid, sizeof(uid), "%u", p->uid);
		if (argv0(p))
			go_base(&c->exe_base, p->argv[0]);
		struct name_values v = {
		    .comm = p->comm,
		    .exe_base = argv0(p) ? c->exe_base.data : p->comm,
		    .exe_full = argv0(p) ? p->argv[0] : p->comm,
		    .username = p->user ? p->user : uid,
		    .cgroup = p->cgroup,
		    .unit = p->unit,
		    .pid = p->pid,
		    .start_time = whole_seconds(p->start_time),
		    .matches = c->matches,
		    .nmatches = c->nmatches,
		};
		buf_reset(name);
		name_template_expand(e->name, &v, GROUP_NAME_MAX, name);
		if (name->len == 0)
			buf_puts(name, "unnamed");
		*m = (struct group_match){.entry = i,
		                          .per_process = e->per_process,
		                          .children = e->children > 0,
		                          .threads = e->threads,
		                          .wchan = e->wchan};
		return true;
	}
	return false;
}
