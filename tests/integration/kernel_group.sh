#!/bin/bash
# Without a configuration file, kernel threads (kthreadd and its children) make one group,
# kernel, instead of one group per kworker name (kworker/0:0-mm_percpu_wq changes as it works).
. "$(dirname "$0")/lib.sh"
[ "$(cat /proc/2/comm 2>/dev/null)" = kthreadd ] || skip "pid 2 is not kthreadd here (a pid namespace?)"

start_kobsd
fetch /metrics -o "$WORK/body"
stop_kobsd || fail "exit status"
kthreads=$(awk '$4 == 2 || $1 == 2' /proc/[0-9]*/stat 2>/dev/null | wc -l)
running=$(awk -F'[{},]' '/^kobs_group_processes\{/ && /group="kernel"/ {
	split($0, v, " "); n += v[length(v)] } END { print n + 0 }' "$WORK/body")
[ "$running" -gt 0 ] || fail "no group kernel: $(grep -c '^kobs_group_processes' "$WORK/body") group series"
echo "# group kernel: $running processes; kthreadd has $((kthreads - 1)) children"
stray=$(grep -o '^kobs_group_processes{group="\(kworker\|ksoftirqd\|kthreadd\|rcu_\|migration\)[^"]*"' "$WORK/body" | sort -u || true)
[ -z "$stray" ] || fail "kernel threads in groups of their own: $stray"
pass "kernel threads are in the group kernel, not in groups of their own"
