#include "collectors.h"

#include "config.h"

#include <string.h>

extern const struct collector_ops collector_system;
extern const struct collector_ops collector_processes;
extern const struct collector_ops collector_diskstats;
extern const struct collector_ops collector_netdev;
extern const struct collector_ops collector_netstat;
extern const struct collector_ops collector_filesystem;
extern const struct collector_ops collector_sockstat;
extern const struct collector_ops collector_uname;
extern const struct collector_ops collector_time;
extern const struct collector_ops collector_textfile;
#ifdef HAVE_BPF
extern const struct collector_ops collector_bpf;
#endif

/* Adding a collector: write collector_NAME.c and add it here. */
static const struct collector_ops *const registry[] = {
    &collector_system,
    &collector_diskstats,
    &collector_netdev,
    &collector_netstat,
    &collector_filesystem,
    &collector_sockstat,
    &collector_uname,
    &collector_time,
    &collector_processes,
#ifdef HAVE_BPF
    /* After processes: it serves the groups that collector has just published. */
    &collector_bpf,
#endif
    &collector_textfile,
};

size_t collectors_count(void)
{
	return sizeof(registry) / sizeof(registry[0]);
}

const struct collector_ops *collectors_at(size_t i)
{
	return i < collectors_count() ? registry[i] : NULL;
}

const struct collector_ops *collectors_find(const char *name)
{
	for (size_t i = 0; i < collectors_count(); i++)
		if (strcmp(registry[i]->name, name) == 0)
			return registry[i];
	return NULL;
}

const char *collectors_names(char *out, size_t len)
{
	size_t used = 0;
	out[0] = '\0';
	for (size_t i = 0; i < collectors_count() && used < len; i++) {
		int n = snprintf(out + used, len - used, "%s%s", i ? ", " : "", registry[i]->name);
		if (n < 0)
			break;
		used += (size_t)n;
	}
	return out;
}

void collectors_usage(FILE *out)
{
	for (size_t i = 0; i < collectors_count(); i++)
		fprintf(out, "  %-34s %s (default %s)\n", registry[i]->name,
		        registry[i]->description, registry[i]->default_enabled ? "on" : "off");
}
