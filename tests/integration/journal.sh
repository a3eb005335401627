#!/bin/bash
# When stderr is the journal (JOURNAL_STREAM names it), kobsd writes native journal entries with
# priorities and structured fields, and notable events carry a MESSAGE_ID. journald does not run
# here, so this test binds the journal's socket itself and reads what arrives.
. "$(dirname "$0")/lib.sh"
require_systemd
SOCK=/run/systemd/journal/socket
[ -e "$SOCK" ] && skip "a real journald owns $SOCK; not interfering with it"
[ "$(id -u)" -eq 0 ] || skip "binding $SOCK needs root (CI runs as root)"
mkdir -p /run/systemd/journal
"$PYTHON" "$KOBS_SRCDIR/tests/integration/notify_listener.py" "$SOCK" "$WORK/journal.log" 30 &
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
grep 'MESSAGE=kobsd .* ready' "$WORK/journal.log" | grep -q 'PRIORITY=6' || fail "ready not at info priority"
pass "log lines become journal entries with priorities"

event=$(grep 'MESSAGE_ID=7f9780c03c484ddc98a884b4d80a2027' "$WORK/journal.log" || true)
[ -n "$event" ] || fail "no collector-failed event with its MESSAGE_ID: $(cat "$WORK/journal.log")"
echo "$event" | grep -q 'KOBS_COLLECTOR=system' || fail "event lacks KOBS_COLLECTOR"
echo "$event" | grep -q 'KOBS_REASON=.*nonexistent' || fail "event lacks KOBS_REASON"
echo "$event" | grep -q 'PRIORITY=4' || fail "event not at warning priority"
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
