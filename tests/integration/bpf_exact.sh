#!/bin/bash
# The bpf collector counts exactly what the kernel did, wherever it keeps a count: in the
# per-CPU rows (group ids below KOBS_CPU_ROWS, 64) and in the shared ones (the ids above).
#
# Seventy sleepers (kt_s00 .. kt_s69, a group each, ids 1 to 70) nap 20 ms at a time. They are
# stopped (SIGSTOP) while the daemon is scraped and /proc/PID/schedstat read, and run in between:
# a stopped process has left the CPU for the last time, so between the two readings each group's
# run-queue histogram grows by exactly the waits the kernel counted for its process (pcount) and
# their sum by exactly the growth of its run_delay; its off-CPU time grows by about the time that
# passed. Then N UDP datagrams to a closed port of 127.0.0.1 are N more packet drops for reason
# no_socket, and N direct writes to a loop device of the test's own are N more writes in its
# block I/O histogram. tests/integration/bpf_exact_check.py judges.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] ||
	skip "needs root: the bpf collector loads programs into the kernel (CI runs as root)"
"$KOBSD" --help | matches '^  bpf ' ||
	skip "kobsd was built without the bpf collector (--help lists no bpf collector)"
export KOBS_WITH_BPF=1

SLEEPERS=70
mkdir "$WORK/bin"
mkfifo "$WORK/never"
names=()
for i in $(seq -f '%02g' 0 $((SLEEPERS - 1))); do
	names+=("kt_s$i")
	ln -s "$(command -v bash)" "$WORK/bin/kt_s$i"
done
# Nap 20 ms, again and again, for at most a minute: no one ever writes to the FIFO.
nap='exec 3<>"$1"; end=$((SECONDS + 60)); while [ $SECONDS -lt $end ]; do read -r -t 0.02 -u 3 || :; done'
sleepers=()
for name in "${names[@]}"; do
	"$WORK/bin/$name" -c "$nap" "$name" "$WORK/never" &
	sleepers+=($!)
	EXTRA_PIDS+=($!)
done

{
	echo "process_names:"
	echo "  - name: \"{{.Comm}}\""
	echo "    comm: [$(IFS=,; echo "${names[*]}")]"
} >"$WORK/kobsd.yml"
start_kobsd --config.file="$WORK/kobsd.yml"
fetch /metrics -o "$WORK/text0"
if [ "${KOBS_VALGRIND:-0}" = 1 ] &&
	grep -q '^kobs_scrape_collector_success{collector="bpf"} 0' "$WORK/text0"; then
	skip "under valgrind the bpf collector does not start"
fi
grep -q '^kobs_bpf_program_attached{program="scheduler"} 1$' "$WORK/text0" ||
	fail "the scheduler program is not attached: $(grep kobs_bpf_program_attached "$WORK/text0")"
# That first scrape gave the sleepers their groups, in the order of their pids.
sleep 1

# stop_sleepers: SIGSTOP them all and wait (bounded) until each is stopped (state T).
stop_sleepers() {
	kill -STOP "${sleepers[@]}"
	local pid state
	for _ in $(seq 1 $((20 * $(scaled 10)))); do
		state=ok
		for pid in "${sleepers[@]}"; do
			[ "$(awk '{print $3}' "/proc/$pid/stat")" = T ] || { state=wait; break; }
		done
		[ $state = ok ] && return 0
		sleep 0.05
	done
	fail "the sleepers did not all stop within $(scaled 10) s"
}

# schedstat FILE: "name run_delay pcount" of each sleeper.
schedstat() {
	local i
	for i in "${!sleepers[@]}"; do
		echo "${names[$i]} $(awk '{print $2, $3}' "/proc/${sleepers[$i]}/schedstat")"
	done >"$1"
}

stop_sleepers
date +%s.%N >"$WORK/times"
schedstat "$WORK/sched1"
fetch /metrics -o "$WORK/text1"
kill -CONT "${sleepers[@]}"
sleep 2
stop_sleepers
date +%s.%N >>"$WORK/times"
fetch /metrics -o "$WORK/text2"
schedstat "$WORK/sched2"
kill -CONT "${sleepers[@]}"

# Packet drops: datagrams to a port nothing listens on.
DROPS=2000
"$PYTHON" - "$DROPS" <<'EOF'
import socket, sys
probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
probe.bind(("127.0.0.1", 0))
port = probe.getsockname()[1]
probe.close()
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(int(sys.argv[1])):
    s.sendto(b"x", ("127.0.0.1", port))
EOF

# Block I/O: direct 4 KiB writes to a loop device, one request each, that nothing else writes.
WRITES=64
loop=""
truncate -s 16M "$WORK/disk.img"
if loop=$(losetup --find --show "$WORK/disk.img" 2>"$WORK/losetup.err"); then
	# cleanup() detaches it; EXIT is lib.sh's trap, so chain to it.
	trap 'losetup -d "$loop" 2>/dev/null || :; cleanup' EXIT
	dd if=/dev/zero of="$loop" bs=4k count=$WRITES oflag=direct status=none ||
		fail "dd oflag=direct to $loop failed"
	echo "${loop#/dev/}" >"$WORK/loop"
else
	echo "# no loop device ($(cat "$WORK/losetup.err")): the block I/O count is not checked"
fi
fetch /metrics -o "$WORK/text3"

"$PYTHON" "$KOBS_SRCDIR/tests/integration/bpf_exact_check.py" "$WORK" "$DROPS" "$WRITES" \
	>"$WORK/check.out" 2>&1 || {
	cat "$WORK/check.out"
	fail "$(grep -c '^FAIL' "$WORK/check.out") of the checks failed (above)"
}
cat "$WORK/check.out"
pass "the bpf collector's counts agree with the kernel's own, in per-CPU and shared rows"
stop_kobsd || fail "exit status"
