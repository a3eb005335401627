#!/bin/bash
# The processes collector measures what processes really do: tests/integration/workload.py starts
# processes with known truths (200 MiB resident, a CPU burner, 300 open descriptors, 64 MiB
# written and fsync'd, comms holding a quote, a backslash, a newline and invalid UTF-8, a command
# line holding them too), a config groups them by comm, and tests/integration/processes_check.py
# compares two scrapes with the truths and with /proc. Both formats must parse, promtool must be
# silent, and --no-collector.processes must take every group series away.
. "$(dirname "$0")/lib.sh"

date +%s.%N >"$WORK/t0"
# The workload is ready (every comm set, every truth held) before the daemon starts: a process
# is classified once per lifetime, and must not be seen before its comm is final.
"$PYTHON" "$KOBS_SRCDIR/tests/integration/workload.py" --io-dir /var/tmp \
	--stop-file "$WORK/workload.stop" --seconds "$(scaled 120)" \
	>"$WORK/workload.json" 2>"$WORK/workload.err" &
WORKLOAD=$!
EXTRA_PIDS+=($WORKLOAD)
wait_grep '"ready"' "$WORK/workload.json" 60 ||
	fail "the workload was not ready in $(scaled 60) s: $(cat "$WORK/workload.err")"
cpu_pid=$("$PYTHON" -c 'import json, sys
print(next(p["pid"] for p in json.load(open(sys.argv[1]))["procs"] if p["role"] == "cpu"))' \
	"$WORK/workload.json")

# Groups by comm; kt_pp and the catch-all at the end (the hostile comms, which YAML cannot spell,
# and the workload's own process) serve their processes one by one too. The argv entry names its
# group after a capture from a command line that also holds invalid UTF-8.
cat >"$WORK/kobsd.yml" <<'EOF'
process_names:
  - name: kt_mem
    comm: [kt_mem]
  - name: kt_cpu
    comm: [kt_cpu]
  - name: kt_fds
    comm: [kt_fds]
  - name: kt_io
    comm: [kt_io]
  - name: kt_pp
    comm: [kt_pp]
    per_process: true
  - name: "argv:{{.Matches.tag}}"
    comm: [kt_argv]
    cmdline: ['kt-argv-mark (?P<tag>tag\S*)']
  - name: "{{.Comm}}"
    cmdline: ['workload\.py']
    per_process: true
EOF

# The workload runs as root: its I/O and descriptors are other users' figures to the daemon,
# which serves as nobody once set up.
start_kobsd --config.file="$WORK/kobsd.yml" --processes.read-other-users
now() { date +%s.%N; }
cat "/proc/$cpu_pid/stat" >"$WORK/cpu.0"
fetch /metrics -o "$WORK/text1"
cat "/proc/$cpu_pid/stat" >"$WORK/cpu.1"
t1_end=$(now)
sleep 2
cat "/proc/$cpu_pid/stat" >"$WORK/cpu.2"
t2=$(now)
fetch /metrics -o "$WORK/text2"
cat "/proc/$cpu_pid/stat" >"$WORK/cpu.3"
awk -v a="$t1_end" -v b="$t2" 'BEGIN { printf "%.3f\n", b - a }' >"$WORK/elapsed"
fetch /metrics -H "Accept: application/openmetrics-text; version=1.0.0" -o "$WORK/om"

"$PYTHON" "$KOBS_SRCDIR/tests/integration/processes_check.py" "$WORK" >"$WORK/check.out" 2>&1 ||
	{
		cat "$WORK/check.out"
		fail "$(grep -c '^FAIL' "$WORK/check.out") of the processes checks failed (above)"
	}
cat "$WORK/check.out"
pass "the groups' figures match the workload's truths and /proc"

check_text "$WORK/text2"
pass "promtool check metrics is silent on the text format with hostile group names"
check_openmetrics "$WORK/om"
pass "the OpenMetrics parser accepts the OpenMetrics format with hostile group names"
stop_kobsd || fail "exit status"

start_kobsd --config.file="$WORK/kobsd.yml" --no-collector.processes
fetch /metrics -o "$WORK/off"
grep -q '^kobs_group_\|^kobs_process_' "$WORK/off" && fail "--no-collector.processes still serves groups"
grep -q '^kobs_scrape_collector_success{collector="processes"}' "$WORK/off" &&
	fail "--no-collector.processes still reports the collector's success"
stop_kobsd || fail "exit status"
pass "--no-collector.processes takes every group and process series away"

touch "$WORK/workload.stop"
