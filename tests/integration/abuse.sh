#!/bin/bash
# Abuse resistance. Slow clients (slowloris), oversized and garbage requests and a scrape storm,
# all from 127.0.0.1 and two more loopback addresses, must not keep a well-behaved scraper on
# 127.0.0.2 from complete answers, must not grow the daemon's memory without bound, and must not
# crash it. The attackers and the scraper are tests/integration/abuse.py.
. "$(dirname "$0")/lib.sh"

command -v wrk >/dev/null || fail "wrk not installed (contrib/install-deps.sh)"
"$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.2", 0))' 2>/dev/null ||
	skip "cannot bind 127.0.0.2: the scraper needs its own loopback address"
abuse() {
	"$PYTHON" "$KOBS_SRCDIR/tests/integration/abuse.py" "$@"
}
json() { # json FILE KEY
	"$PYTHON" -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"
}

# Short, so that the test waits little for slow connections to be closed; the limits are the
# defaults (64 connections per address; in all, from the open-files limit).
TIMEOUT=4
PER_IP=64
start_kobsd --web.timeout=$TIMEOUT
host=${KOBS_URL#http://}
port=${host##*:}
host=${host%:*}
fetch /metrics -o /dev/null
rss_start=$(rss_kib "$KOBS_PID")

# The scraper: a scrape every 0.2 s from 127.0.0.2, each answer parsed whole, each bounded.
scraper_start() { # scraper_start NAME
	rm -f "$WORK/scraper-$1.stop"
	abuse scrape "$host" "$port" --from 127.0.0.2 --until "$WORK/scraper-$1.stop" \
		--timeout "$(scaled 10)" >"$WORK/scraper-$1.json" 2>"$WORK/scraper-$1.err" &
	SCRAPER=$!
	EXTRA_PIDS+=($SCRAPER)
}
scraper_stop() { # scraper_stop NAME: fails the test if any scrape failed; sets SERVED
	touch "$WORK/scraper-$1.stop"
	wait "$SCRAPER" || fail "the scraper on 127.0.0.2 failed during $1: $(cat "$WORK/scraper-$1.err")"
	SERVED=$(json "$WORK/scraper-$1.json" served)
}

# (a) Slowloris: 100 connections from 127.0.0.1 and 64 each from 127.0.0.3 and .4 send their
# headers a byte a second and never finish, reconnecting when closed, for 8 s. The per-address
# limit refuses what 127.0.0.1 opens over 64; the rest (192) are held until the request deadline
# (--web.timeout) closes them.
hold=8
limit=$(($(scaled $TIMEOUT) + $(scaled 3)))
abuse slowloris "$host" "$port" --from 127.0.0.1:100 127.0.0.3:$PER_IP 127.0.0.4:$PER_IP \
	--hold "$hold" --limit "$limit" >"$WORK/slowloris.json" 2>"$WORK/slowloris.err" &
slow=$!
EXTRA_PIDS+=($slow)
sleep 1
scraper_start slowloris
sleep $((hold - 2))
scraper_stop slowloris
wait $slow || fail "slowloris: $(cat "$WORK/slowloris.err") $(cat "$WORK/slowloris.json")"
held=$(json "$WORK/slowloris.json" held_peak)
refused=$(json "$WORK/slowloris.json" refused_at_once)
longest=$(json "$WORK/slowloris.json" longest_held_seconds)
[ "$held" -gt $PER_IP ] || fail "slowloris: only $held connections held: $(cat "$WORK/slowloris.json")"
[ "$held" -le $((3 * PER_IP)) ] || fail "slowloris: $held held, over the per-address limit"
[ "$refused" -gt 0 ] || fail "slowloris: the per-address limit refused nothing"
[ "$SERVED" -gt 0 ] || fail "slowloris: no scrape served"
pass "slowloris: $held slow connections held at once, $refused attempts over the per-address" \
	"limit refused, $SERVED complete scrapes served meanwhile on 127.0.0.2; every slow" \
	"connection closed by the daemon, the longest after $longest s (--web.timeout=$TIMEOUT)"

# (b) Oversized requests get 431, 414 or 400, or are closed; never an answer as if all was well.
abuse oversized "$host" "$port" --timeout "$(scaled $((TIMEOUT + 5)))" >"$WORK/oversized.json" \
	2>"$WORK/oversized.err" || fail "oversized: $(cat "$WORK/oversized.err")"
[ "$(status_of /metrics)" = 200 ] || fail "not serving after oversized requests"
pass "oversized header, header name, header count and URL refused: $(cat "$WORK/oversized.json")"

# (c) Garbage: malformed requests of many kinds and random bytes, 32 at a time, while the
# scraper keeps going.
scraper_start garbage
abuse garbage "$host" "$port" --seed 1 --count 200 --timeout "$(scaled $((TIMEOUT + 5)))" \
	>"$WORK/garbage.json" 2>"$WORK/garbage.err" || fail "garbage: $(cat "$WORK/garbage.err")"
scraper_stop garbage
kill -0 "$KOBS_PID" || fail "the daemon died of garbage"
pass "200 garbage requests answered or closed ($(cat "$WORK/garbage.json")), $SERVED scrapes" \
	"served meanwhile"
rss_before=$(rss_kib "$KOBS_PID")

# (d) A scrape storm: 64 keep-alive connections from 127.0.0.1 (the per-address limit) scraping
# as fast as they can for 5 s, while the scraper on 127.0.0.2 keeps going.
scraper_start storm
wrk -c $PER_IP -t 2 -d 5s --timeout "$(scaled 10)s" "$KOBS_URL/metrics" >"$WORK/wrk.out" 2>&1 ||
	fail "wrk failed: $(cat "$WORK/wrk.out")"
scraper_stop storm
storm=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$WORK/wrk.out")
! grep -q 'Non-2xx' "$WORK/wrk.out" || fail "the storm got errors: $(cat "$WORK/wrk.out")"
errors=$(sed -n 's/^ *Socket errors: //p' "$WORK/wrk.out")
rss_after=$(rss_kib "$KOBS_PID")
pass "scrape storm: $storm scrapes by wrk (socket errors: ${errors:-none}), $SERVED by the" \
	"scraper meanwhile"

# wrk's 64 connections filled 127.0.0.1's per-address limit; the server counts them until its
# threads, busy with the storm's last scrapes, have seen them close. Until then a new connection
# from 127.0.0.1 is refused, as the limit says.
for i in $(seq 1 $((20 * $(scaled 10)))); do
	curl -sS --max-time "$(scaled 10)" -o /dev/null "$KOBS_URL/metrics" 2>/dev/null && break
	sleep 0.05
done

# What the storm may add to resident memory: for each of its connections libmicrohttpd's 32 KiB
# of connection memory and the copy of the answer it is sending, plus 4 MiB for what the C
# library's per-thread arenas keep. A leak of even 100 bytes a scrape would exceed it over the
# tens of thousands of scrapes of a storm.
body=$(fetch /metrics | wc -c)
budget=$((PER_IP * (32 + body / 1024 + 1) + 4096))
echo "# RSS: $rss_start KiB at start, $rss_before KiB before the storm, $rss_after KiB after" \
	"(allowed: before + $budget KiB)"
if [ "${KOBS_SANITIZERS:-no}" = yes ] || [ "${KOBS_VALGRIND:-0}" = 1 ]; then
	echo "# the memory bound is not checked under ASan or valgrind: their own memory dominates"
else
	[ "$rss_after" -le $((rss_before + budget)) ] ||
		fail "RSS grew from $rss_before to $rss_after KiB in the storm (allowed $budget KiB)"
	pass "RSS after the storm within $budget KiB of before"
fi

# (e) Scrapes share collections: under the storm there were far fewer collections than requests.
fetch /metrics -o "$WORK/body"
requests=$(sed -n 's/^kobs_scrape_requests_total //p' "$WORK/body")
collections=$(sed -n 's/^kobs_scrape_collections_total //p' "$WORK/body")
[ -n "$requests" ] && [ -n "$collections" ] || fail "no kobs_scrape_*_total in the answer"
[ "$collections" -lt "$requests" ] ||
	fail "no collection was shared: $collections collections for $requests requests"
pass "coalescing: $collections collections for $requests requests"

[ "$(status_of /-/healthy)" = 200 ] || fail "not healthy after the abuse"
stop_kobsd || fail "exit status after the abuse"
pass "healthy after the abuse, and stops cleanly"

# (f) Slow clients from many addresses must not starve a scraper from another one: 100 from each
# of 127.0.0.2 to 127.0.0.11 (1,000; 64 per address are held, the per-address limit refuses the
# rest) trickle their headers, and meanwhile every scrape from 127.0.0.1 is answered within 1 s.
# With the default flags the connection limit, sized to the open-files limit, holds them all.
"$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.11", 0))' 2>/dev/null ||
	skip "cannot bind 127.0.0.11: the slow clients need ten loopback addresses of their own"
ulimit -n 4096 2>/dev/null || ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" -ge 2200 ] || skip "an open-files limit of $(ulimit -n): 1,000 slow clients need more"
attackers=()
for i in $(seq 2 11); do
	attackers+=("127.0.0.$i:100")
done
many_slow_clients() { # many_slow_clients NAME: the attack, and the scrapes from 127.0.0.1
	abuse slowloris "$host" "$port" --from "${attackers[@]}" --hold 8 --limit "$(scaled 20)" \
		--release >"$WORK/$1.json" 2>"$WORK/$1.err" &
	slow=$!
	EXTRA_PIDS+=($slow)
	sleep 3 # the attackers open their connections
	abuse scrape "$host" "$port" --from 127.0.0.1 --seconds 4 --interval 0.1 \
		--timeout "$(scaled 10)" --max-seconds "$(scaled 1)" >"$WORK/$1-scraper.json" \
		2>"$WORK/$1-scraper.err" ||
		fail "$1: $(cat "$WORK/$1-scraper.err") (attack: $(cat "$WORK/$1.json" 2>/dev/null))"
	wait $slow || fail "$1: $(cat "$WORK/$1.err") $(cat "$WORK/$1.json")"
	held=$(json "$WORK/$1.json" held_peak)
	SLOWEST=$(json "$WORK/$1-scraper.json" slowest_seconds)
	SERVED=$(json "$WORK/$1-scraper.json" served)
}
start_kobsd
host=${KOBS_URL#http://}
port=${host##*:}
host=${host%:*}
many_slow_clients defaults
[ "$held" -ge 600 ] || fail "only $held slow connections held: $(cat "$WORK/defaults.json")"
pass "$held slow connections from 10 addresses held: $SERVED scrapes from 127.0.0.1 answered" \
	"meanwhile, the slowest in $SLOWEST s (default flags)"
stop_kobsd || fail "exit status"

# (g) With a connection limit far below what the attackers hold, the connection that has waited
# longest for its request is closed to make room: the scrapes are still answered within 1 s.
start_kobsd --web.max-connections=100
host=${KOBS_URL#http://}
port=${host##*:}
host=${host%:*}
many_slow_clients limited
pass "--web.max-connections=100 full of slow clients: $SERVED scrapes from 127.0.0.1" \
	"answered meanwhile, the slowest in $SLOWEST s"
stop_kobsd || fail "exit status"
