# The load that makes slow events of known processes (sourced by events.sh and journal.sh, after
# lib.sh): a CPU hog (kt_hog) pinned beside a latency-sensitive loop (kt_lat, waking every 2 ms)
# on this machine's last CPU, so that kt_lat waits in the run queue behind kt_hog; and direct
# writes to a file on a disk by kt_dd, a dd. Each is started before the daemon, so that the
# daemon's first collection puts it in its group, and waits at a FIFO until release_slow_load
# opens it; so the events come once the daemon serves, from processes already classified.
#
#   start_slow_load SECONDS   start them: LAT_PID, HOG_PID, DD_PID, CPU, DISK are set
#   release_slow_load         let them go (kt_dd writes 4 MiB in 64 KiB direct writes)
#   SLOW_LOAD_CONFIG          a config file grouping them by comm, with low thresholds

start_slow_load() {
	local seconds=$1
	IO_DIR=$WORK
	DISK=$(disk_under "$IO_DIR")
	if [ -z "$DISK" ]; then
		IO_DIR=/var/tmp
		DISK=$(disk_under "$IO_DIR")
		[ -n "$DISK" ] || fail "neither $WORK nor /var/tmp is on a block device"
	fi
	IO_FILE="$IO_DIR/kobs-slow-load.$$"
	CPU=$(($(nproc) - 1))
	mkdir -p "$WORK/bin"
	ln -sf "$(command -v bash)" "$WORK/bin/kt_hog"
	ln -sf "$(command -v bash)" "$WORK/bin/kt_lat"
	ln -sf "$(command -v dd)" "$WORK/bin/kt_dd"
	mkfifo "$WORK/go" "$WORK/data" "$WORK/never"
	# shellcheck disable=SC2016 # for the child shells
	taskset -c "$CPU" "$WORK/bin/kt_hog" -c 'read -r _ <"$1"; end=$((SECONDS + $2))
		while [ $SECONDS -lt $end ]; do :; done' kt_hog "$WORK/go" "$seconds" &
	HOG_PID=$!
	EXTRA_PIDS+=($HOG_PID)
	# shellcheck disable=SC2016
	taskset -c "$CPU" "$WORK/bin/kt_lat" -c 'read -r _ <"$1"; exec 3<>"$2"
		end=$((SECONDS + $3)); while [ $SECONDS -lt $end ]; do read -r -t 0.002 -u 3 || :; done' \
		kt_lat "$WORK/go" "$WORK/never" "$seconds" &
	LAT_PID=$!
	EXTRA_PIDS+=($LAT_PID)
	"$WORK/bin/kt_dd" if="$WORK/data" of="$IO_FILE" bs=64k iflag=fullblock oflag=direct \
		status=none &
	DD_PID=$!
	EXTRA_PIDS+=($DD_PID)
	SLOW_LOAD_CONFIG=$WORK/slow_load.yml
	cat >"$SLOW_LOAD_CONFIG" <<'EOF'
process_names:
  - name: "{{.Comm}}"
    comm: [kt_hog, kt_lat, kt_dd]
bpf:
  ungrouped: false
events:
  runqueue: 1ms
  block_io: 1us
  rate_limit: 1000
EOF
}

release_slow_load() {
	echo go >"$WORK/go"
	head -c $((4 << 20)) /dev/zero >"$WORK/data"
	wait "$DD_PID" || fail "kt_dd's direct writes to $IO_FILE failed"
	rm -f "$IO_FILE"
}
