#!/bin/bash
# Process groups under churn: the members of kt_churn fork and exit all the time (burning a
# little CPU and doing some IO), kt_burst appears and vanishes, and the daemon is scraped every
# 200 ms for 15 s. No group counter may go backwards when members exit, and a group whose
# processes have all gone stays listed, with 0 processes, until group_expiry (3 s here), then
# disappears. The scraping side is tests/integration/processes_churn.py.
. "$(dirname "$0")/lib.sh"

EXPIRY=3
mkdir -p "$WORK/bin" "$WORK/io"
ln -s "$(command -v bash)" "$WORK/bin/kt_churn"
ln -s "$(command -v sleep)" "$WORK/bin/kt_burst"

cat >"$WORK/kobsd.yml" <<EOF
process_names:
  - name: kt_churn
    comm: [kt_churn]
  - name: kt_burst
    comm: [kt_burst]
processes:
  group_expiry: ${EXPIRY}s
EOF

# The churn: four subshells at a time (comm kt_churn, like their parent), each counting to 3000
# and writing, reading and removing 256 KiB through head, cat and rm, whose own comms match no
# entry, so that they join their parent's group. It stops when $WORK/churn.stop appears, or after
# its own deadline. It is started before the daemon: no scrape sees it before its exec.
"$WORK/bin/kt_churn" -c '
	stop=$1 dir=$2 deadline=$((SECONDS + $3))
	while [ ! -e "$stop" ] && [ $SECONDS -lt $deadline ]; do
		for i in 1 2 3 4; do
			(
				n=0 f=$dir/io.$BASHPID # (in a redirection, BASHPID would be the child'"'"'s)
				while [ $n -lt 3000 ]; do n=$((n + 1)); done
				head -c 262144 /dev/zero >"$f"
				cat "$f" >/dev/null
				rm -f "$f"
			) &
		done
		wait
		sleep 0.05
	done' kt_churn "$WORK/churn.stop" "$WORK/io" "$(scaled 120)" &
CHURN=$!
EXTRA_PIDS+=($CHURN)

start_kobsd --config.file="$WORK/kobsd.yml"
"$PYTHON" "$KOBS_SRCDIR/tests/integration/processes_churn.py" "$KOBS_URL/metrics" \
	--seconds 15 --interval 0.2 --timeout "$(scaled 10)" --burst "$WORK/bin/kt_burst" \
	--expiry "$EXPIRY" --give-up "$((15 + $(scaled 30)))" \
	>"$WORK/churn.out" 2>"$WORK/churn.err" || fail "$(cat "$WORK/churn.err")"
touch "$WORK/churn.stop"
wait "$CHURN" || fail "the churn generator failed"
echo "# $(cat "$WORK/churn.out")"
pass "under churn no group counter went backwards, and kt_burst appeared, stayed listed with" \
	"0 processes for its ${EXPIRY} s of expiry, then vanished"
stop_kobsd || fail "exit status after the churn"
