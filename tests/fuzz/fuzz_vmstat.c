/* parse_vmstat on any bytes: "key 123" lines. Beyond "no crash, no read past len", every
 * field is compared with a plain reference implementation of the same rules (kv_reference.h):
 * whether it was found, its value, and the return code. So, among others: a value is only set
 * when its key was found (fields are filled with garbage first), the key "" is never found, and
 * an unterminated last line never counts. */
#include <stdint.h>
#include <string.h>

#include "procfs_parse.h"

#include "fuzz_common.h"
#include "kv_reference.h"

static const char *const keys[] = {"pgfault",
                                   "pgmajfault",
                                   "pswpin",
                                   "pswpout",
                                   "pgpgin",
                                   "pgpgout",
                                   "oom_kill",
                                   "nr_free_pages",
                                   "workingset_refault_file",
                                   "allocstall_normal",
                                   "x",
                                   ""};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_kv_check(parse_vmstat, false, keys, NKEYS, data, size);
	return 0;
}
