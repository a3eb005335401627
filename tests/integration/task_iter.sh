#!/bin/bash
# The bpf collector's task iterator feeds the processes collector: started as root with BPF on,
# after the daemon has given up every capability, it still serves the I/O of a root process
# (64 MiB written with fsync) and of a nobody process (16 MiB) within 5% of their
# /proc/PID/io; the context switches and run-queue wait of a process with 8 busy threads equal
# the sums over its threads' /proc files (not its main thread's); threads: true and wchan: true
# give series by thread name and wait channel that /proc confirms; a busy process that ran
# before the daemon is in the run-queue histograms from the first scrape; a process that execs
# itself under ever new names makes at most 4 new groups; and without the task_iter program the
# collector reads /proc and says so. The loads
# (tests/integration/task_iter_load.py) end asleep for good, so the comparisons are exact but
# for the 5% the issue allows. Names carry this test's pid, so that other runs do not mix in.
. "$(dirname "$0")/lib.sh"

require_bpf

# Where nobody may run the load from, and where writes reach a disk ($WORK is root's, 0700).
SHARED=$(mktemp -d /var/tmp/kobs-task-iter.XXXXXX)
chmod 0755 "$SHARED"
mkdir -m 0777 "$SHARED/nobody"
cp "$KOBS_SRCDIR/tests/integration/task_iter_load.py" "$SHARED/load.py"
root_w="tiR$$" nobody_w="tiN$$" threaded="tiT$$"
for name in "$root_w" "$nobody_w" "$threaded"; do
	ln -s /usr/bin/python3 "$SHARED/$name"
done
trap 'rm -rf "$SHARED"; cleanup' EXIT

cat >"$WORK/kobsd.yml" <<YML
process_names:
  - comm: [$root_w, $nobody_w]
    name: "{{.Comm}}"
  - comm: [$threaded]
    name: "{{.Comm}}"
    threads: true
    wchan: true
  - cmdline: ['/ex$$_']
    name: "{{.Comm}}"
YML

busy=$(scaled 8)
nice -n 19 "$SHARED/$threaded" "$SHARED/load.py" threads 8 "$busy" "$SHARED/threads.done" &
EXTRA_PIDS+=($!)
threaded_pid=$!
"$SHARED/$root_w" "$SHARED/load.py" writer 64 "$SHARED" "$SHARED/root.done" &
EXTRA_PIDS+=($!)
root_pid=$!
setpriv --reuid=nobody --regid=nogroup --clear-groups \
	"$SHARED/$nobody_w" "$SHARED/load.py" writer 16 "$SHARED/nobody" "$SHARED/nobody/done" &
EXTRA_PIDS+=($!)
nobody_pid=$!

start_kobsd --config.file="$WORK/kobsd.yml"

# (1) Every process running at start is classified before the first scrape: the busy one is in
# the run-queue histograms of the very first scrape.
sleep "$(scaled 3)"
fetch /metrics -o "$WORK/first"
count=$(sed -n "s/^kobs_runqueue_latency_seconds_count{group=\"$threaded\"} //p" "$WORK/first")
[ -n "$count" ] && [ "${count%.*}" -gt 0 ] ||
	fail "the first scrape, 3 s after start, has no run-queue waits of $threaded (count '$count')"
pass "first scrape: $count run-queue waits of $threaded, which ran before the daemon"

# (Each load touches its file, empty, once steady: wait for the file, not for a line in it.)
for done in threads.done root.done nobody/done; do
	for _ in $(seq 1 $(((busy + 60) * 20))); do
		[ -e "$SHARED/$done" ] && break
		sleep 0.05
	done
	[ -e "$SHARED/$done" ] || fail "the $done load did not reach its steady state"
done
sleep 0.5
fetch /metrics -o "$WORK/steady"

# (2) No capability is left, and the figures come from the iterator.
for set in CapEff CapPrm; do
	v=$(awk -v k="$set:" '$1 == k {print $2}' "/proc/$KOBS_PID/status")
	[ "$v" = 0000000000000000 ] || fail "$set of the daemon is $v"
done
grep -q '^kobs_processes_source{source="bpf_iter"} 1$' "$WORK/steady" ||
	fail "the figures do not come from the task iterator: $(grep kobs_processes_source "$WORK/steady")"
pass "CapEff and CapPrm are 0, and kobs_processes_source is bpf_iter"

# (3) The figures, against /proc.
"$PYTHON" "$KOBS_SRCDIR/tests/integration/task_iter_check.py" "$WORK/steady" \
	"$root_w=$root_pid" "$nobody_w=$nobody_pid" "$threaded=$threaded_pid" >"$WORK/check.out" ||
	{
		cat "$WORK/check.out"
		fail "$(grep -c '^FAIL' "$WORK/check.out") of the comparisons with /proc failed (above)"
	}
cat "$WORK/check.out"
pass "I/O of root's and nobody's writers, every thread's switches and waits, thread names and wait channels match /proc"

check_text "$WORK/steady"
fetch / -o "$WORK/landing.html"
grep -q "task iterator" "$WORK/landing.html" ||
	fail "the landing page does not say the processes' figures come from the task iterator"

# (4) A process that execs itself under a new name every 0.1 s gives new groups their ids at
# most 4 times; the next names count as ungrouped, and the refusals are counted.
cat >"$SHARED/ex.sh" <<'SH'
#!/bin/bash
n=$((${1:-0} + 1))
ln -sf "$0" "${0%_*}_$n"
sleep 0.1
exec "${0%_*}_$n" "$n"
SH
chmod 0755 "$SHARED/ex.sh"
ln -s "$SHARED/ex.sh" "$SHARED/ex$$_0"
"$SHARED/ex$$_0" 0 &
EXTRA_PIDS+=($!)
sleep "$(scaled 3)"
fetch /metrics -o "$WORK/execs"
kill "${EXTRA_PIDS[-1]}"
groups=$(grep -o "group=\"ex$$_[0-9]*\"" "$WORK/execs" | sort -u | wc -l)
refused=$(sed -n 's/^kobs_exec_groups_refused_total //p' "$WORK/execs")
[ "$groups" -le 5 ] || fail "a process exec'ing under new names made $groups groups (at most 5)"
[ "${refused%.*}" -gt 0 ] || fail "no refusal counted: kobs_exec_groups_refused_total '$refused'"
pass "an exec loop under new names made $groups groups; $refused new groups refused"
stop_kobsd || fail "exit status"

# (5) Without the task_iter program, the /proc files are the source, and that is said.
cat >>"$WORK/kobsd.yml" <<YML
bpf:
  programs: [scheduler]
YML
start_kobsd --config.file="$WORK/kobsd.yml"
fetch /metrics -o "$WORK/procfs"
grep -q '^kobs_processes_source{source="procfs"} 1$' "$WORK/procfs" ||
	fail "without task_iter the source is not procfs: $(grep kobs_processes_source "$WORK/procfs")"
fetch / -o "$WORK/landing.html"
grep -q "figures from /proc" "$WORK/landing.html" ||
	fail "without task_iter the landing page does not say the figures come from /proc"
stop_kobsd || fail "exit status"
pass "without the task_iter program: kobs_processes_source is procfs, and the landing page says so"
