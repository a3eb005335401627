#!/bin/bash
# When stderr is the journal (JOURNAL_STREAM names it), kobsd writes native journal entries with
# priorities and structured fields, and notable events carry a MESSAGE_ID; so do slow events, one
# MESSAGE_ID per kind, with the process's fields (with the bpf collector: root, and a build with
# it). journald does not run here, so this test binds the journal's socket itself and reads what
# arrives.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/slow_load.sh"
require_systemd
SOCK=/run/systemd/journal/socket
[ -e "$SOCK" ] && skip "a real journald owns $SOCK; not interfering with it"
[ "$(id -u)" -eq 0 ] || skip "binding $SOCK needs root (CI runs as root)"
mkdir -p /run/systemd/journal
"$PYTHON" "$KOBS_SRCDIR/tests/integration/notify_listener.py" "$SOCK" "$WORK/journal.log" $(scaled 90) &
EXTRA_PIDS+=($!)
trap 'rm -f "$SOCK"; cleanup' EXIT
wait_grep LISTENING "$WORK/journal.log" || fail "journal socket listener did not start"

port=$("$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
: >"$WORK/stderr"
stream=$(stat -c '%d:%i' "$WORK/stderr")
JOURNAL_STREAM=$stream "${KOBSD_RUN[@]}" ${NO_BPF[@]+"${NO_BPF[@]}"} --web.listen-address="127.0.0.1:$port" \
	--path.procfs="$WORK/nonexistent" 2>>"$WORK/stderr" &
KOBS_PID=$!
KOBS_URL="http://127.0.0.1:$port"
wait_grep 'MESSAGE=kobsd .* ready' "$WORK/journal.log" || fail "no journal entry: $(cat "$WORK/journal.log")"
grep -q 'SYSLOG_IDENTIFIER=kobsd' "$WORK/journal.log" || fail "no SYSLOG_IDENTIFIER"
grep 'MESSAGE=kobsd .* ready' "$WORK/journal.log" | matches 'PRIORITY=6' || fail "ready not at info priority"
pass "log lines become journal entries with priorities"

event=$(grep 'MESSAGE_ID=7f9780c03c484ddc98a884b4d80a2027' "$WORK/journal.log" || true)
[ -n "$event" ] || fail "no collector-failed event with its MESSAGE_ID: $(cat "$WORK/journal.log")"
echo "$event" | matches 'KOBS_COLLECTOR=system' || fail "event lacks KOBS_COLLECTOR"
echo "$event" | matches 'KOBS_REASON=.*nonexistent' || fail "event lacks KOBS_REASON"
echo "$event" | matches 'PRIORITY=4' || fail "event not at warning priority"
pass "a collector failing to start is a structured event with a MESSAGE_ID"

grep -q 'level=' "$WORK/stderr" && fail "logged to stderr too: $(cat "$WORK/stderr")"
pass "nothing duplicated on stderr"
[ "$(status_of /metrics)" = 200 ] || fail "not serving"
stop_kobsd || fail "exit status"

# With JOURNAL_STREAM pointing elsewhere (stderr redirected since), plain lines on stderr.
: >"$WORK/stderr2"
JOURNAL_STREAM=1:1 "${KOBSD_RUN[@]}" ${NO_BPF[@]+"${NO_BPF[@]}"} --web.listen-address="127.0.0.1:$port" 2>>"$WORK/stderr2" &
KOBS_PID=$!
wait_grep 'ready' "$WORK/stderr2" || true
grep -q 'level=info msg="kobsd .* ready"' "$WORK/stderr2" || fail "no logfmt lines on stderr"
stop_kobsd || fail "exit status"
pass "a JOURNAL_STREAM that is not our stderr keeps logfmt on stderr"

# Slow events of a known load (slow_load.sh): a run-queue wait of kt_lat, pinned beside a CPU hog,
# and the direct writes of kt_dd, each an entry with its kind's MESSAGE_ID at warning priority and
# KOBS_PID, KOBS_GROUP, KOBS_LATENCY_SECONDS and the kind's details.
if [ "$(id -u)" != 0 ] || ! "$KOBSD" --help | matches '^  bpf '; then
	echo "# slow events in the journal: not checked (needs root and the bpf collector)"
	exit 0
fi
start_slow_load "$(scaled 20)"
: >"$WORK/stderr3"
stream=$(stat -c '%d:%i' "$WORK/stderr3")
JOURNAL_STREAM=$stream "${KOBSD_RUN[@]}" --web.listen-address="127.0.0.1:$port" \
	--config.file="$SLOW_LOAD_CONFIG" 2>>"$WORK/stderr3" &
KOBS_PID=$!
for _ in $(seq 1 $(($(scaled 10) * 20))); do
	[ "$(curl -s -o /dev/null -w '%{http_code}' "$KOBS_URL/-/ready")" = 200 ] && break
	sleep 0.05
done
if ! curl -sf --max-time 10 "$KOBS_URL/metrics" | matches '^kobs_bpf_program_attached{program="scheduler"} 1'; then
	[ "${KOBS_VALGRIND:-0}" = 1 ] || fail "the bpf collector did not start: $(tail -n 5 "$WORK/journal.log")"
	echo "# slow events in the journal: not checked (under valgrind the bpf collector does not start)"
	stop_kobsd || fail "exit status"
	exit 0
fi
release_slow_load
entry() { grep "MESSAGE_ID=$1" "$WORK/journal.log" | matches "KOBS_PID=$2|"; }
for _ in $(seq 1 $(($(scaled 15) * 4))); do
	entry 95eefc17c78d43ebbfcfa6abf7cdf282 "$LAT_PID" && entry 4e963441c4b94c12808f6bb3d2a1e288 "$DD_PID" && break
	sleep 0.25
done
check() { "$PYTHON" "$KOBS_SRCDIR/tests/integration/events_check.py" "$@" || fail "(above)"; }
check log "$WORK/journal.log" runqueue 95eefc17c78d43ebbfcfa6abf7cdf282 "$LAT_PID" kt_lat comm=kt_lat tid="$LAT_PID"
check log "$WORK/journal.log" block_io 4e963441c4b94c12808f6bb3d2a1e288 "$DD_PID" kt_dd comm=kt_dd device="$DISK" op=write
grep "MESSAGE_ID=4e963441c4b94c12808f6bb3d2a1e288" "$WORK/journal.log" | grep "KOBS_PID=$DD_PID|" |
	matches 'KOBS_LATENCY_SECONDS=0\.[0-9]' || fail "the block I/O entries have no KOBS_LATENCY_SECONDS"
grep -q 'level=' "$WORK/stderr3" && fail "slow events went to stderr too: $(head -n 3 "$WORK/stderr3")"
stop_kobsd || fail "exit status"
pass "slow events are journal entries: kt_lat's run-queue wait and kt_dd's direct writes, by MESSAGE_ID"
