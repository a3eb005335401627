/* Talking to the service manager (systemd): readiness, status, watchdog, reload and stop
 * notifications, and sockets passed by socket activation. Without libsystemd (or outside
 * systemd, where NOTIFY_SOCKET is unset) the notifications do nothing. */
#ifndef KOBS_SERVICE_H
#define KOBS_SERVICE_H

#include <stddef.h>
#include <stdint.h>

void service_ready(const char *status);
void service_status(const char *status);
/* RELOADING=1 with the MONOTONIC_USEC systemd 253+ asks for (252 ignores it). */
void service_reloading(void);
void service_stopping(void);
void service_watchdog(void);

/* The watchdog interval the service manager expects pings within, in microseconds; 0 when no
 * watchdog is configured. */
uint64_t service_watchdog_usec(void);

/* The listening sockets passed by socket activation (LISTEN_FDS). Returns how many were put in
 * `fds`, or -1 with a message in `err`. */
int service_listen_fds(int *fds, size_t max, char *err, size_t errlen);

#endif
