#!/bin/bash
# The filesystem collector and a mount that hangs (a dead NFS server, a stopped FUSE daemon): a
# FUSE filesystem whose statfs never answers (hanging_fuse.py). The collection that meets it (the
# one at start, later a scrape's) waits only --collector.filesystem.mount-timeout, marks the mount
# stale and counts it; later scrapes skip it without waiting; once statfs answers, the mount is
# served again; and SIGTERM still stops the daemon at once while a helper thread is stuck in the
# kernel.
#
# The mount is made in a private mount namespace (unshare), so nothing else on the machine ever
# sees it, and it goes away with the test. Needs root and /dev/fuse; skipped otherwise.
if [ "${KOBS_IN_MOUNT_NS:-0}" != 1 ]; then
	# valgrind does not count statfs among the calls that may block, so it keeps its lock on the
	# whole process while the helper thread waits: under valgrind one hanging statfs stops every
	# thread (seen here: no answer in 100 s). A limit of the tool; test_stat_runner runs the same
	# code under valgrind with a stand-in call that blocks on a condition variable.
	[ "${KOBS_VALGRIND:-0}" != 1 ] ||
		{ echo "SKIP: under valgrind a blocked statfs stops the whole process (see above)"; exit 77; }
	[ "$(id -u)" = 0 ] || { echo "SKIP: a FUSE mount needs root"; exit 77; }
	[ -c /dev/fuse ] || { echo "SKIP: no /dev/fuse"; exit 77; }
	unshare --mount --propagation private true 2>/dev/null ||
		{ echo "SKIP: cannot make a mount namespace (unshare --mount)"; exit 77; }
	KOBS_IN_MOUNT_NS=1 exec unshare --mount --propagation private "$BASH" "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"

mkdir "$WORK/hang"
readable_by_daemon # the daemon serves as nobody, and must reach the mount point
"$PYTHON" "$KOBS_SRCDIR/tests/integration/hanging_fuse.py" "$WORK/hang" >"$WORK/fuse.log" 2>&1 &
FUSE_PID=$!
EXTRA_PIDS+=("$FUSE_PID")
# Stop the server first (closing /dev/fuse fails whatever still waits on the mount), then unmount,
# so that removing $WORK does not meet the mount point.
trap 'kill -KILL "$FUSE_PID" 2>/dev/null; wait "$FUSE_PID" 2>/dev/null || true; umount -l "$WORK/hang" 2>/dev/null || true; cleanup' EXIT
wait_grep '^mounted$' "$WORK/fuse.log" 10 || {
	grep -q '^mount:' "$WORK/fuse.log" && skip "cannot mount FUSE here: $(cat "$WORK/fuse.log")"
	fail "the FUSE server did not mount: $(cat "$WORK/fuse.log")"
}

# Under valgrind even a healthy statvfs takes a while: the deadline grows with the other waits.
timeout_ms=$((500 * KOBS_TIME_FACTOR))
start_kobsd --collector.filesystem.mount-timeout="${timeout_ms}ms" --no-collector.processes
labels="device=\"kobstest\",fstype=\"fuse.kobstest\",mountpoint=\"$WORK/hang\""

scrape() { # scrape NAME: the body in $WORK/NAME, the seconds it took in $took
	local t0 t1
	t0=$(date +%s%N)
	fetch /metrics -o "$WORK/$1"
	t1=$(date +%s%N)
	took=$(((t1 - t0) / 1000000))
}
has() { grep -qxF "$1" "$WORK/$2" || fail "no line '$1' in the $2 scrape: $(grep -E 'kobs_filesystem_(stale|stat_timeouts|stuck|device_error)' "$WORK/$2")"; }

# The collection of the start, which runs before any request, is the first to meet the mount: the
# first request waits for it to end (at most the deadline), then has a collection of its own.
scrape first
[ "$took" -lt $((timeout_ms + $(scaled 5) * 1000)) ] ||
	fail "the first scrape took ${took} ms: far more than the deadline (${timeout_ms} ms)"
has "kobs_filesystem_stale{$labels} 1" first
has "kobs_filesystem_device_error{$labels} 1" first
has "kobs_filesystem_stat_timeouts_total 1" first
has "kobs_filesystem_stuck_threads 1" first
grep -q "^kobs_filesystem_size_bytes{$labels}" "$WORK/first" && fail "a size for the hanging mount"
grep -q '^kobs_filesystem_size_bytes{.*mountpoint="/"}' "$WORK/first" ||
	fail "the other mounts were not served beside the hanging one"
check_text "$WORK/first"
pass "the collection that meets a hanging mount marks it stale and counts it; the first scrape took ${took} ms (deadline ${timeout_ms} ms)"

scrape second
has "kobs_filesystem_stale{$labels} 1" second
has "kobs_filesystem_stat_timeouts_total 1" second
has "kobs_filesystem_stuck_threads 1" second
pass "the next scrape skips the stale mount without trying it again (${took} ms)"

kill -USR1 "$FUSE_PID" # statfs answers at last
for i in $(seq 1 $(($(scaled 10) * 10))); do
	scrape answered
	grep -qxF "kobs_filesystem_stale{$labels} 0" "$WORK/answered" && break
	sleep 0.1
done
has "kobs_filesystem_stale{$labels} 0" answered
has "kobs_filesystem_device_error{$labels} 0" answered
has "kobs_filesystem_size_bytes{$labels} 4096000" answered
has "kobs_filesystem_avail_bytes{$labels} 1228800" answered
has "kobs_filesystem_files_free{$labels} 50" answered
has "kobs_filesystem_stuck_threads 0" answered
has "kobs_filesystem_stat_timeouts_total 1" answered
pass "once the mount answers it is served again and no thread is left stuck"

kill -USR2 "$FUSE_PID" # hang again
scrape again
[ "$took" -ge $((timeout_ms * 9 / 10)) ] ||
	fail "the scrape that met the mount hanging again took ${took} ms: it cannot have waited for it"
[ "$took" -lt $((timeout_ms + $(scaled 5) * 1000)) ] ||
	fail "the scrape that met the mount hanging again took ${took} ms: far more than the deadline (${timeout_ms} ms)"
has "kobs_filesystem_stale{$labels} 1" again
has "kobs_filesystem_stat_timeouts_total 2" again
pass "the scrape that meets a hanging mount waits the deadline and no more (${took} ms, deadline ${timeout_ms} ms)"
kill -TERM "$KOBS_PID"
wait_grep 'msg="stopped"' "$WORK/kobsd.log" 10 ||
	fail "kobsd did not stop within $(scaled 10) s of SIGTERM while a thread was stuck in statvfs"
pass "SIGTERM stops the daemon while a helper thread is stuck in statvfs: it is not waited for"

# The kernel ends the process only once that thread leaves the (uninterruptible) FUSE call:
# answer it, and the daemon must then be gone with status 0 (and, under valgrind, clean).
kill -USR1 "$FUSE_PID"
for i in $(seq 1 $(($(scaled 10) * 20))); do
	kill -0 "$KOBS_PID" 2>/dev/null || break
	sleep 0.05
done
kill -0 "$KOBS_PID" 2>/dev/null && fail "kobsd still there after its stuck call returned"
status=0
wait "$KOBS_PID" || status=$?
KOBS_PID=""
[ "$status" = 0 ] || fail "exit status $status"
valgrind_verdict || fail "valgrind found problems (above)"
pass "and exits with status 0 once the call returns"
