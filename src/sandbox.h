/* The system call filter (seccomp, through libseccomp): once the privileged setup is over, the
 * daemon may make only the system calls it uses to serve. docs/deployment.md lists them and
 * explains the actions:
 *   - listed calls (some only with listed arguments) are allowed;
 *   - calls that no code of kobsd or of its libraries ever makes while serving, and that only
 *     injected code would (running a program, tracing or reading another process, forking),
 *     kill the whole process at once, which the kernel's audit log records (type=1326) (or,
 *     where libseccomp cannot see that the kernel can, raise SIGSYS, which has no handler);
 *   - clone3 fails with ENOSYS, so that glibc falls back to clone, whose flags the filter reads;
 *   - everything else fails with EPERM: an unforeseen but legitimate call (a library that starts
 *     using a new system call) becomes an error the daemon reports, not a crash. */
#ifndef KOBS_SANDBOX_H
#define KOBS_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>

/* The sanitizer build (tests/run-all.sh's second pass) allows what LeakSanitizer needs at exit:
 * a tracer process (clone without CLONE_THREAD) that stops the threads with ptrace. */
#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_FOR_SANITIZERS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANDBOX_FOR_SANITIZERS 1
#endif
#endif
#ifndef SANDBOX_FOR_SANITIZERS
#define SANDBOX_FOR_SANITIZERS 0
#endif

/* Whether kobsd was built with libseccomp. */
bool sandbox_built_in(void);

/* Install the filter on the calling thread; threads it starts afterwards inherit it. Call it
 * before the process starts any thread (threads that exist already would stay unfiltered), and
 * after everything that needs a call the filter forbids. Sets no_new_privs (the kernel requires
 * it). Returns the number of system calls allowed, or -1 with the reason in `err`. */
int sandbox_install(char *err, size_t errlen);

#endif
