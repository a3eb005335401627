#!/bin/bash
# Soak: processes fork and exit all the time while the daemon is scraped every 100 ms over HTTPS
# with basic authentication, and gets a SIGHUP (a reload of both configuration files) every
# second, for KOBS_SOAK_SECONDS (45 by default, for CI; KOBS_SOAK_SECONDS=3600 for a long local
# run). No scrape may fail (not even once, to be retried), no counter may go backwards, and the
# daemon's resident memory and open file descriptors must stay flat after the warm-up. The
# scraping side is tests/integration/soak.py.
. "$(dirname "$0")/lib.sh"
command -v openssl >/dev/null || fail "openssl not installed (contrib/install-deps.sh)"

SOAK=${KOBS_SOAK_SECONDS:-45}
[ "$SOAK" -ge 20 ] || fail "KOBS_SOAK_SECONDS=$SOAK: at least 20, to leave time after the warm-up"
WARMUP=10
# How much resident memory may grow between the warm-up and the end. A scrape allocates only
# from buffers it keeps, so a flat daemon moves by a few pages; 512 KiB still catches a leak of
# 1.2 KiB a scrape (a tenth of one answer) in a 45 s run, and of 15 bytes a scrape in an hour.
RSS_TOLERANCE_KIB=512

# The churn: short-lived processes (8 at a time, exiting at once) and some that live up to 4 s
# (at most 40 at a time), each kind under its own command name, so that process groups matched
# on comm appear and vanish with them. It stops when $WORK/churn.stop appears.
mkdir -p "$WORK/bin"
ln -s "$(command -v sleep)" "$WORK/bin/churn_short"
ln -s "$(command -v sleep)" "$WORK/bin/churn_long"
churn() {
	local long=() alive=() short=() pid i
	while [ ! -e "$WORK/churn.stop" ]; do
		short=()
		for i in 1 2 3 4 5 6 7 8; do
			"$WORK/bin/churn_short" 0 &
			short+=($!)
		done
		if [ ${#long[@]} -lt 40 ]; then
			"$WORK/bin/churn_long" "$((RANDOM % 4)).$((RANDOM % 10))" &
			long+=($!)
		fi
		wait "${short[@]}"
		alive=()
		for pid in ${long[@]+"${long[@]}"}; do
			if kill -0 "$pid" 2>/dev/null; then
				alive+=("$pid")
			else
				wait "$pid" || true
			fi
		done
		long=(${alive[@]+"${alive[@]}"})
		sleep 0.05
	done
	wait
}

# Process groups come and go too: churn_burst lives 1 s in every 4, so with a group expiry of
# 2 s its group appears, empties, expires and comes back from zero.
ln -s "$(command -v sleep)" "$WORK/bin/churn_burst"
bursts() {
	while [ ! -e "$WORK/churn.stop" ]; do
		"$WORK/bin/churn_burst" 1
		sleep 3
	done
}
# Only the churn is grouped: the groups, and so the size of each answer, must not depend on
# whatever else runs on the host (make -j runs compilers and fuzzers beside this test), or the
# resident memory check below would measure the host instead of the daemon. Every process is
# still listed and tracked.
cat >"$WORK/groups.yml" <<'YML'
process_names:
  - name: "{{.Comm}}"
    comm: [churn_short, churn_long, churn_burst]
processes:
  group_expiry: 2s
YML

# TLS and basic authentication, reloaded every second with the rest.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=localhost" \
	-addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$WORK/tls.key" \
	-out "$WORK/tls.crt" 2>/dev/null || fail "openssl could not make a certificate"
hash=$("$PYTHON" -W ignore -c 'import crypt; print(crypt.crypt("s3cret", crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16)))')
cat >"$WORK/web.yml" <<YML
tls_server_config:
  cert_file: tls.crt
  key_file: tls.key
basic_auth_users:
  prometheus: $hash
YML
reloads() {
	while [ ! -e "$WORK/churn.stop" ]; do
		kill -HUP "$KOBS_PID"
		sleep 1
	done
}

start_kobsd --config.file="$WORK/groups.yml" --web.config.file="$WORK/web.yml"
readable_by_daemon
churn &
CHURN=$!
EXTRA_PIDS+=($CHURN)
bursts &
BURSTS=$!
EXTRA_PIDS+=($BURSTS)
reloads &
RELOADS=$!
EXTRA_PIDS+=($RELOADS)

"$PYTHON" "$KOBS_SRCDIR/tests/integration/soak.py" "${KOBS_URL/http:/https:}/metrics" \
	"$KOBS_PID" --cafile "$WORK/tls.crt" --user prometheus:s3cret --seconds "$SOAK" \
	--warmup "$WARMUP" --interval 0.1 --timeout "$(scaled 10)" >"$WORK/soak.json" \
	2>"$WORK/soak.err" || fail "soak: $(cat "$WORK/soak.err")"
touch "$WORK/churn.stop"
wait "$CHURN" || fail "the churn generator failed"
wait "$BURSTS" || true
wait "$RELOADS" || true

figure() {
	"$PYTHON" -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' \
		"$WORK/soak.json" "$1"
}
scrapes=$(figure scrapes)
forks=$(figure forks_seen)
rss_warm=$(figure rss_kib_after_warmup)
rss_end=$(figure rss_kib_end)
fds_warm=$(figure fds_after_warmup)
fds_end=$(figure fds_end)
echo "# $(cat "$WORK/soak.json")"
[ "$forks" -gt 0 ] || fail "kobs_forks_total did not move: was there any churn?"
[ "$(figure retries)" = 0 ] || fail "$(figure retries) scrapes failed and were retried"
reloaded=$(grep -c 'reloaded the configuration' "$WORK/kobsd.log" || true)
[ "$reloaded" -ge $((SOAK / 2)) ] || fail "only $reloaded reloads in $SOAK s"
pass "$scrapes HTTPS scrapes in ${SOAK} s under churn ($forks forks on the host) and $reloaded" \
	"reloads: none failed, no counter went backwards ($(figure series_watched) counter series)"

vanished=$(figure groups_vanished)
case "$vanished" in *churn_burst*) ;; *) fail "the churn_burst group never expired: $vanished" ;; esac
[ "$(figure groups_appeared_late)" -gt 0 ] || fail "no process group appeared during the soak"
pass "process groups appeared ($(figure groups_appeared_late)) and expired ($vanished) during the soak"

[ "$fds_end" -le "$fds_warm" ] || fail "open fds grew from $fds_warm after the warm-up to $fds_end"
pass "open fds flat: $fds_warm after the warm-up, $fds_end at the end"
if [ "${KOBS_SANITIZERS:-no}" = yes ] || [ "${KOBS_VALGRIND:-0}" = 1 ]; then
	echo "# resident memory not checked under ASan or valgrind, whose own memory dominates:" \
		"$(figure rss_kib_start) KiB at start, $rss_warm after the warm-up, $rss_end at the end"
else
	[ "$rss_end" -le $((rss_warm + RSS_TOLERANCE_KIB)) ] ||
		fail "resident memory grew from $rss_warm KiB after the warm-up to $rss_end KiB"
	pass "resident memory flat: $(figure rss_kib_start) KiB at start, $rss_warm KiB after the" \
		"warm-up, $rss_end KiB at the end"
fi
stop_kobsd || fail "exit status after the soak"
