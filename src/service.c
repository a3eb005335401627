#include "service.h"

#include <fcntl.h>
#include <stdio.h>
#include <time.h>

#include "config.h"

#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>

void service_ready(const char *status)
{
	sd_notifyf(0, "READY=1\nSTATUS=%s", status);
}

void service_status(const char *status)
{
	sd_notifyf(0, "STATUS=%s", status);
}

void service_reloading(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	unsigned long long usec =
	    (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000;
	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=Reloading the configuration", usec);
}

void service_stopping(void)
{
	sd_notify(0, "STOPPING=1\nSTATUS=Stopping");
}

void service_watchdog(void)
{
	sd_notify(0, "WATCHDOG=1");
}

uint64_t service_watchdog_usec(void)
{
	uint64_t usec = 0;
	return sd_watchdog_enabled(0, &usec) > 0 ? usec : 0;
}

int service_listen_fds(int *fds, size_t max, char *err, size_t errlen)
{
	int n = sd_listen_fds(1);
	if (n < 0) {
		snprintf(err, errlen, "cannot read the sockets passed by systemd (LISTEN_FDS)");
		return -1;
	}
	if (n == 0) {
		snprintf(err, errlen,
		         "--web.systemd-socket: no sockets were passed (LISTEN_FDS unset); start "
		         "kobsd through kobsd.socket, or drop the flag and use "
		         "--web.listen-address");
		return -1;
	}
	if ((size_t)n > max) {
		snprintf(err, errlen, "systemd passed %d sockets; kobsd serves at most %zu", n,
		         max);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		int fd = SD_LISTEN_FDS_START + i;
		if (sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) <= 0) {
			snprintf(err, errlen,
			         "socket %d passed by systemd is not a listening stream socket "
			         "(use ListenStream= in kobsd.socket)",
			         fd);
			return -1;
		}
		/* Every worker thread polls the same socket; a blocking accept would stall the
		 * threads that lose the race. */
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
		fcntl(fd, F_SETFD, FD_CLOEXEC);
		fds[i] = fd;
	}
	return n;
}

#else /* !HAVE_SYSTEMD */

void service_ready(const char *status)
{
	(void)status;
}

void service_status(const char *status)
{
	(void)status;
}

void service_reloading(void)
{
}

void service_stopping(void)
{
}

void service_watchdog(void)
{
}

uint64_t service_watchdog_usec(void)
{
	return 0;
}

int service_listen_fds(int *fds, size_t max, char *err, size_t errlen)
{
	(void)fds;
	(void)max;
	snprintf(err, errlen,
	         "--web.systemd-socket needs libsystemd: this kobsd was built without it "
	         "(apt-get install libsystemd-dev, then ./configure --with-systemd)");
	return -1;
}

#endif
