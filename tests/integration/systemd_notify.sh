#!/bin/bash
# The sd_notify protocol as systemd speaks it, with this test in systemd's place: a NOTIFY_SOCKET
# datagram socket and WATCHDOG_USEC. READY, STATUS, repeated WATCHDOG pings, RELOADING then READY
# on SIGHUP, STOPPING and exit 0 on SIGTERM; no pings while a collection hangs, and pings while
# TLS, basic auth or a full per-IP limit turn the self-probe away.
. "$(dirname "$0")/lib.sh"
require_systemd
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
	wait_grep LISTENING "$WORK/notify.log" || fail "notify listener did not start"
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

readable_by_daemon
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

# A collection that hangs: meminfo becomes a FIFO nobody writes (after the collection the daemon
# runs at start), so reading it blocks like a /proc read stuck in the kernel. The watchdog must
# starve while it hangs, and be fed again after.
mkdir -p "$WORK/proc"
cp -r "$KOBS_FIXTURES/proc/." "$WORK/proc/"
notify_start
NOTIFY_SOCKET="$WORK/notify.sock" WATCHDOG_USEC=1000000 start_kobsd --path.procfs="$WORK/proc"
wait_for '^WATCHDOG=1$' 5
rm -f "$WORK/proc/meminfo"
mkfifo "$WORK/proc/meminfo"
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

# The self-probe behind the watchdog must not starve a healthy daemon that speaks TLS, asks for
# a password, or has its per-address connection limit filled by someone else on loopback.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=localhost" \
	-keyout "$WORK/tls.key" -out "$WORK/tls.crt" 2>/dev/null || fail "openssl could not make a certificate"
hash=$("$PYTHON" -W ignore -c 'import crypt; print(crypt.crypt("s3cret", crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16)))')
cat >"$WORK/web.yml" <<YML
tls_server_config:
  cert_file: $WORK/tls.crt
  key_file: $WORK/tls.key
basic_auth_users:
  prometheus: '$hash'
YML
notify_start
NOTIFY_SOCKET="$WORK/notify.sock" WATCHDOG_USEC=1000000 start_kobsd \
	--web.config.file="$WORK/web.yml" --web.max-connections-per-ip=2
wait_for '^READY=1'
host=${KOBS_URL#http://}
exec 5<>"/dev/tcp/${host%:*}/${host##*:}" 6<>"/dev/tcp/${host%:*}/${host##*:}"
: >"$WORK/notify.log"
sleep 2.5
pings=$(grep -c '^WATCHDOG=1$' "$WORK/notify.log" || true)
exec 5>&- 6>&-
[ "$pings" -ge 3 ] || fail "only $pings watchdog pings in ~2.5 s under TLS, basic auth and a full per-IP limit"
if grep -q 'not feeding the watchdog' "$WORK/kobsd.log"; then
	fail "watchdog starved: $(grep 'not feeding' "$WORK/kobsd.log" | head -n 1)"
fi
pass "TLS, basic auth and a full per-IP limit do not starve the watchdog ($pings pings)"
stop_kobsd || fail "exit status"
