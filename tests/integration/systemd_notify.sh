#!/bin/bash
# The sd_notify protocol as systemd speaks it, with this test in systemd's place: a NOTIFY_SOCKET
# datagram socket and WATCHDOG_USEC. READY, STATUS, repeated WATCHDOG pings, RELOADING then READY
# on SIGHUP, STOPPING and exit 0 on SIGTERM; and no pings while a collection hangs.
. "$(dirname "$0")/lib.sh"
kobsd --help >"$WORK/help"
if ! grep -q -- '--web.systemd-socket' "$WORK/help"; then
	fail "kobsd lacks --web.systemd-socket"
fi

notify_start() {
	: >"$WORK/notify.log"
	rm -f "$WORK/notify.sock"
	"$PYTHON" "$KOBS_SRCDIR/tests/integration/notify_listener.py" "$WORK/notify.sock" \
		"$WORK/notify.log" 60 &
	EXTRA_PIDS+=($!)
	for i in $(seq 1 100); do
		grep -q LISTENING "$WORK/notify.log" && return 0
		sleep 0.05
	done
	fail "notify listener did not start"
}

# wait_for PATTERN [SECONDS]: a notification matching the extended regex arrives in time.
wait_for() {
	local i
	for i in $(seq 1 $((${2:-10} * 20))); do
		grep -Eq "$1" "$WORK/notify.log" && return 0
		sleep 0.05
	done
	fail "no notification matching '$1' within ${2:-10} s; got: $(cat "$WORK/notify.log")"
}

notify_start
NOTIFY_SOCKET="$WORK/notify.sock" WATCHDOG_USEC=1000000 start_kobsd
wait_for '^READY=1\|STATUS=.*collector'
pass "READY=1 with a STATUS line once listening"

fetch /metrics -o /dev/null
wait_for '^STATUS=.*last scrape served [0-9]+ series' 8
pass "STATUS tells what the last scrape served"

sleep 2.5
pings=$(grep -c '^WATCHDOG=1$' "$WORK/notify.log" || true)
[ "$pings" -ge 3 ] || fail "only $pings watchdog pings in ~3 s with WATCHDOG_USEC=1s"
pass "WATCHDOG=1 at half the interval ($pings pings)"

kill -HUP "$KOBS_PID"
wait_for '^RELOADING=1\|MONOTONIC_USEC=[0-9]+'
n_ready=$(grep -c '^READY=1' "$WORK/notify.log")
[ "$n_ready" -ge 2 ] || wait_for '^READY=1.*' 5
after=$(sed -n '/^RELOADING=1/,$p' "$WORK/notify.log" | grep -c '^READY=1' || true)
[ "$after" -ge 1 ] || fail "no READY=1 after RELOADING=1: $(cat "$WORK/notify.log")"
pass "SIGHUP: RELOADING=1 with MONOTONIC_USEC, then READY=1"

stop_kobsd || fail "exit status after SIGTERM was not 0"
grep -q '^STOPPING=1' "$WORK/notify.log" || fail "no STOPPING=1"
pass "SIGTERM: STOPPING=1 and exit 0"

# A collection that hangs: meminfo is a FIFO nobody writes, so reading it blocks like a /proc
# read stuck in the kernel. The watchdog must starve while it hangs, and be fed again after.
mkdir -p "$WORK/proc"
cp -r "$KOBS_FIXTURES/proc/." "$WORK/proc/"
rm -f "$WORK/proc/meminfo"
mkfifo "$WORK/proc/meminfo"
notify_start
NOTIFY_SOCKET="$WORK/notify.sock" WATCHDOG_USEC=1000000 start_kobsd --path.procfs="$WORK/proc"
wait_for '^WATCHDOG=1$' 5
curl -s --max-time 20 -o /dev/null "$KOBS_URL/metrics" &
EXTRA_PIDS+=($!)
sleep 1.5 # the hang threshold is half the watchdog interval
: >"$WORK/notify.log"
sleep 2
[ "$(grep -c '^WATCHDOG=1$' "$WORK/notify.log" || true)" -eq 0 ] ||
	fail "watchdog fed while a collection hangs"
grep -q 'not feeding the watchdog: a collection has been running' "$WORK/kobsd.log" ||
	fail "the starved watchdog is not explained in the log"
pass "no WATCHDOG=1 while a collection hangs, and the log says why"

# Release the hang (a writer that closes at once gives the reader EOF).
: >"$WORK/proc/meminfo"
wait_for '^WATCHDOG=1$' 5
pass "the watchdog is fed again once the collection finishes"
stop_kobsd || fail "exit status"
