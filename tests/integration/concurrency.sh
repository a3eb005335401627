#!/bin/bash
# A scrape never blocks another: 50 concurrent scrapers all get complete, valid answers.
. "$(dirname "$0")/lib.sh"

start_kobsd
N=50
for round in 1 2; do
	pids=()
	for i in $(seq 1 $N); do
		curl -sS --max-time 30 -H "Accept: $ACCEPT_PROM_242" -o "$WORK/body.$i" \
			-w '%{http_code}' "$KOBS_URL/metrics" >"$WORK/code.$i" 2>"$WORK/err.$i" &
		pids+=($!)
	done
	for i in $(seq 1 $N); do
		wait "${pids[$((i - 1))]}" || fail "scraper $i failed: $(cat "$WORK/err.$i")"
		[ "$(cat "$WORK/code.$i")" = 200 ] || fail "scraper $i got $(cat "$WORK/code.$i")"
		[ "$(tail -n 1 "$WORK/body.$i")" = "# EOF" ] || fail "scraper $i got a truncated body"
	done
done
check_openmetrics "$WORK/body.$N"
pass "$N concurrent scrapes, twice, all complete and valid"

# Concurrent scrapes share collections: far fewer collections than requests would be ideal,
# but the observable contract is that each answer is whole; the daemon is still healthy.
[ "$(status_of /-/healthy)" = 200 ] || fail "not healthy after the storm"
stop_kobsd || fail "exit status"
pass "healthy after the storm and stops cleanly"
