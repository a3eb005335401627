/* Giving up privileges once the privileged work of the start is done. */
#ifndef KOBS_CAPS_H
#define KOBS_CAPS_H

#include <stdbool.h>
#include <stddef.h>

/* Whether this thread has any capability in its effective, permitted or bounding set. */
bool caps_any(void);

/* Drop every capability: the bounding set (while CAP_SETPCAP allows), the ambient set, then the
 * effective, permitted and inheritable sets; and forbid gaining any through execve. Capabilities
 * belong to each thread: call it before the process starts its threads. Returns 0, with a note
 * in `note` when the bounding set could not be emptied (or "" when it was); -1 with the reason
 * when a capability is left in the effective or permitted set. */
int caps_drop_all(char *note, size_t note_len);

#endif
