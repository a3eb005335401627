#!/bin/bash
# A scrape never blocks another: 50 concurrent scrapers all get complete, valid answers; and
# requests that arrive during a collection share it.
. "$(dirname "$0")/lib.sh"

start_kobsd
N=50
for round in 1 2; do
	pids=()
	for i in $(seq 1 $N); do
		curl -sS --max-time "$(scaled 30)" -H "Accept: $ACCEPT_PROM_242" -o "$WORK/body.$i" \
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

[ "$(status_of /-/healthy)" = 200 ] || fail "not healthy after the storm"

# 50 scrapers on one address, under its limit of 64, each opening a connection for a scrape and
# closing it once answered, for 10 s: a connection its client has closed no longer counts
# against the address's limit, however busy the daemon is, so not one is refused.
host=${KOBS_URL#http://}
"$PYTHON" "$KOBS_SRCDIR/tests/integration/abuse.py" reconnect "${host%:*}" "${host##*:}" --clients 50 \
	--seconds 10 --timeout "$(scaled 30)" >"$WORK/reconnect.json" 2>"$WORK/reconnect.err" ||
	fail "reconnecting scrapers: $(cat "$WORK/reconnect.err")"
pass "50 scrapers reconnecting for every scrape from one address for 10 s:" \
	"$(cat "$WORK/reconnect.json")"
stop_kobsd || fail "exit status"
pass "healthy after the storm and stops cleanly"

# Requests that arrive while a collection runs share it. meminfo is a FIFO nobody writes yet, so
# the first collection hangs on it, like a /proc read stuck in the kernel, while more requests
# arrive; every worker thread then waits for that one collection.
mkdir -p "$WORK/proc"
cp -r "$KOBS_FIXTURES/proc/." "$WORK/proc/"
rm -f "$WORK/proc/meminfo"
mkfifo "$WORK/proc/meminfo"
# The daemon serves as nobody: without this it could not open the FIFO, and the writer below
# would wait for a reader for ever.
readable_by_daemon
# The request deadline (--web.timeout) is not under test here: it is made longer than the hang,
# so that the requests queued behind the blocked worker threads are not closed meanwhile.
start_kobsd --path.procfs="$WORK/proc" --web.timeout=60
N=8
pids=()
for i in $(seq 1 $N); do
	curl -sS --max-time "$(scaled 30)" -o "$WORK/held.$i" -w '%{http_code}' "$KOBS_URL/metrics" \
		>"$WORK/code.$i" 2>"$WORK/err.$i" &
	pids+=($!)
done
sleep "$(scaled 1)"
# Release the hang: the regular file serves the next collections, and a writer that closes at
# once gives the one reading the FIFO its end of file.
mv "$WORK/proc/meminfo" "$WORK/meminfo.fifo"
cp "$KOBS_FIXTURES/proc/meminfo" "$WORK/proc/meminfo"
timeout "$(scaled 10)" sh -c ': >"$1"' sh "$WORK/meminfo.fifo" ||
	fail "the daemon never opened its FIFO meminfo: $(tail -n 3 "$WORK/kobsd.log")"
for i in $(seq 1 $N); do
	wait "${pids[$((i - 1))]}" || fail "held scraper $i failed: $(cat "$WORK/err.$i")"
	[ "$(cat "$WORK/code.$i")" = 200 ] || fail "held scraper $i got $(cat "$WORK/code.$i")"
	grep -q '^kobs_build_info{' "$WORK/held.$i" || fail "held scraper $i got an incomplete body"
done
fetch /metrics -o "$WORK/body"
requests=$(sed -n 's/^kobs_scrape_requests_total //p' "$WORK/body")
collections=$(sed -n 's/^kobs_scrape_collections_total //p' "$WORK/body")
# This last request ran a collection of its own; the $N before it needed fewer than $N.
[ "$requests" = $((N + 1)) ] || fail "kobs_scrape_requests_total is $requests, not $((N + 1))"
[ "$((collections - 1))" -lt $N ] ||
	fail "$N requests during a hung collection needed $((collections - 1)) collections"
stop_kobsd || fail "exit status"
pass "$N requests during a slow collection shared it: $((collections - 1)) collections"
