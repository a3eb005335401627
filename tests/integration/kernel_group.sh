#!/bin/bash
# Without a configuration file, kernel threads (kthreadd and its children) make one group,
# kernel, instead of one group per kworker name (kworker/0:0-mm_percpu_wq changes as it works).
. "$(dirname "$0")/lib.sh"
[ "$(cat /proc/2/comm 2>/dev/null)" = kthreadd ] || skip "pid 2 is not kthreadd here (a pid namespace?)"

start_kobsd
fetch /metrics -o "$WORK/body"
stop_kobsd || fail "exit status"
# A process may exit between the glob and the read: cat says so (ignored) and goes on, where awk
# (mawk) would stop with status 2 and set -e would end the test without a word. The parent pid
# is the second field after the last ')' (a comm may hold spaces and parentheses).
kthreads=$({ cat /proc/[0-9]*/stat 2>/dev/null || true; } |
	sed -n 's/^\([0-9]*\) .*) . \([0-9]*\) .*/\1 \2/p' | awk '$1 == 2 || $2 == 2' | wc -l)
running=$(awk -F'[{},]' '/^kobs_group_processes\{/ && /group="kernel"/ {
	split($0, v, " "); n += v[length(v)] } END { print n + 0 }' "$WORK/body")
[ "$running" -gt 0 ] || fail "no group kernel: $(grep -c '^kobs_group_processes' "$WORK/body") group series"
echo "# group kernel: $running processes; kthreadd has $((kthreads - 1)) children"
stray=$(grep -o '^kobs_group_processes{group="\(kworker\|ksoftirqd\|kthreadd\|rcu_\|migration\)[^"]*"' "$WORK/body" | sort -u || true)
[ -z "$stray" ] || fail "kernel threads in groups of their own: $stray"
pass "kernel threads are in the group kernel, not in groups of their own"
