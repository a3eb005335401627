#!/bin/bash
# Process groups follow --config.file: SIGHUP puts a changed file in force (the groups are named
# anew), a bad file is reported with its line and column and the running groups stay, and
# --check-config says what is wrong in the schema, not only in the YAML syntax.
. "$(dirname "$0")/lib.sh"

# A process of our own with a name no other process has.
mkdir -p "$WORK/bin"
ln -s "$(command -v sleep)" "$WORK/bin/kt_reload"
"$WORK/bin/kt_reload" 300 &
EXTRA_PIDS+=($!)

cat >"$WORK/groups.yml" <<'YML'
process_names:
  - name: "first:{{.Comm}}"
    comm: [kt_reload]
YML
readable_by_daemon
start_kobsd --config.file="$WORK/groups.yml" --no-collector.system
fetch /metrics >"$WORK/before"
grep -q '^kobs_group_processes{group="first:kt_reload",state="sleeping"} 1$' "$WORK/before" ||
	fail "no group first:kt_reload: $(grep -m3 kobs_group_processes "$WORK/before")"
pass "a comm matcher names the group from its template"

cat >"$WORK/groups.yml" <<'YML'
process_names:
  - name: "second"
    comm: [kt_reload]
YML
kill -HUP "$KOBS_PID"
wait_grep 'reloaded the configuration; the process groups start again' "$WORK/kobsd.log" ||
	fail "reload not logged: $(tail -3 "$WORK/kobsd.log")"
fetch /metrics >"$WORK/after"
grep -q '^kobs_group_processes{group="second",state="sleeping"} 1$' "$WORK/after" ||
	fail "the new group is not served after SIGHUP"
grep -q 'group="first:kt_reload"' "$WORK/after" && fail "the old group is still served"
pass "SIGHUP puts a changed group config in force"

printf 'process_names:\n  - name: x\n    comm: [kt_reload]\n    cmdline: ["(unclosed"]\n' \
	>"$WORK/groups.yml"
kill -HUP "$KOBS_PID"
wait_grep 'reload failed, keeping the running configuration: .*groups.yml:4:' "$WORK/kobsd.log" ||
	fail "bad regex on reload not reported with its line: $(tail -3 "$WORK/kobsd.log")"
fetch /metrics >"$WORK/kept"
grep -q '^kobs_group_processes{group="second",state="sleeping"} 1$' "$WORK/kept" ||
	fail "the running groups were dropped by a bad reload"
pass "a bad group config on SIGHUP is reported with its line and the old one keeps running"
stop_kobsd || fail "exit status"

set +e
"${KOBSD_RUN[@]}" --check-config --config.file="$WORK/groups.yml" >"$WORK/check.out" 2>&1
rc=$?
set -e
[ "$rc" = 78 ] || fail "--check-config on a bad regex exited $rc, not 78"
grep -q 'groups.yml:4:[0-9]*: ' "$WORK/check.out" ||
	fail "--check-config does not name file:line:column: $(cat "$WORK/check.out")"
pass "--check-config reports a bad regex as file:line:column and exits 78"
