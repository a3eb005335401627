/* Capabilities: what the daemon keeps once the privileged part of its start is over. */
#ifndef KOBS_CAPS_H
#define KOBS_CAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A set of capabilities as bits: bit N is capability N of linux/capability.h. */
#define CAPS_BIT(cap) (UINT64_C(1) << (cap))

/* The calling thread's permitted set. */
uint64_t caps_permitted(void);

/* Whether the calling thread has any capability in its effective, permitted or inheritable
 * set. */
bool caps_any(void);

/* Drop from the bounding set every capability but those in `keep`, as far as CAP_SETPCAP allows
 * (root has it; systemd's CapabilityBoundingSet= and Kubernetes' drop: [ALL] take it away).
 * Returns 0 when nothing else is left in it, or 1 with a note saying what stays and why that is
 * harmless. */
int caps_limit_bounding(uint64_t keep, char *note, size_t note_len);

/* Clear the ambient and inheritable sets, and leave in the permitted and effective sets only
 * `keep` (those of it the thread has: `*kept`). capset() is called only when there is something
 * to drop: kobsd.service's system call filter refuses it, and there is nothing to drop.
 * Capabilities belong to each thread: call it before the process starts its threads. Returns
 * 0, or -1 with the reason in `err`. */
int caps_limit(uint64_t keep, uint64_t *kept, char *err, size_t errlen);

/* The names of the capabilities in `caps`, separated by spaces ("CAP_SYS_PTRACE"), or "none". */
void caps_names(uint64_t caps, char *out, size_t len);

#endif
