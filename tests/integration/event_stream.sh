#!/bin/bash
# GET /api/events as HTTP sees it, without the kernel's events (tests/integration/events.sh has
# those): a Server-Sent Events stream that opens at once, answers HEAD, sits behind basic
# authentication like /metrics, is bounded by --web.max-event-streams, holds no server thread
# (scrapes answer beside many idle streams), sends a heartbeat when idle, ends when a reload
# replaces the web configuration or the daemon stops; and GET /live, the page that reads it.
. "$(dirname "$0")/lib.sh"

hash=$("$PYTHON" -W ignore -c 'import crypt; print(crypt.crypt("s3cret", crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16)))')
case "$hash" in \$2*) ;; *) fail "could not make a bcrypt hash: $hash" ;; esac
printf 'basic_auth_users:\n  prometheus: %s\n' "$hash" >"$WORK/web.yml"
readable_by_daemon
AUTH=(-u prometheus:s3cret)

start_kobsd --web.config.file="$WORK/web.yml" --web.max-event-streams=24

# stream PATH-OF-OUTPUT [curl args...]: an /api/events stream in the background, read as it
# comes; its pid is $!.
stream() {
	local out=$1
	shift
	curl -sS -N --max-time "$(scaled 60)" "${AUTH[@]}" "$@" -D "$out.headers" -o "$out" \
		"$KOBS_URL/api/events" 2>"$out.err" &
	EXTRA_PIDS+=($!)
}

[ "$(status_of /api/events)" = 401 ] || fail "/api/events answered without credentials"
pass "/api/events sits behind basic authentication like /metrics"

stream "$WORK/s1"
s1=$!
wait_grep '^retry: 1000' "$WORK/s1" || fail "the stream did not open at once: $(cat "$WORK/s1" "$WORK/s1.err")"
head -n 1 "$WORK/s1" | matches '^: kobsd slow events$' || fail "no opening comment: $(head -n 2 "$WORK/s1")"
grep -qi '^Content-Type: text/event-stream; charset=utf-8' "$WORK/s1.headers" ||
	fail "not text/event-stream: $(cat "$WORK/s1.headers")"
grep -qi '^Cache-Control: no-cache' "$WORK/s1.headers" || fail "no Cache-Control: no-cache"
pass "a stream opens at once: text/event-stream, a comment and retry: 1000"

curl -sS --max-time 10 -I "${AUTH[@]}" "$KOBS_URL/api/events" >"$WORK/head" || fail "HEAD failed"
grep -q '^HTTP/1.1 200' "$WORK/head" && grep -qi '^Content-Type: text/event-stream' "$WORK/head" ||
	fail "HEAD /api/events: $(cat "$WORK/head")"
pass "HEAD /api/events: 200 with the stream's type, no stream"

# 23 streams more reach the limit of 24; the next one is refused; /metrics answers beside them,
# though the server has 4 threads: an idle stream holds none.
for i in $(seq 2 24); do stream "$WORK/s$i"; done
for i in $(seq 2 24); do
	wait_grep '^retry: 1000' "$WORK/s$i" 10 || fail "stream $i did not open: $(cat "$WORK/s$i.err")"
done
status=$(curl -sS --max-time 10 -D "$WORK/full.headers" -o "$WORK/full" -w '%{http_code}' \
	"${AUTH[@]}" "$KOBS_URL/api/events") || fail "the stream over the limit got no answer"
[ "$status" = 503 ] || fail "stream 25 of 24: $status, not 503"
grep -qi '^Retry-After: ' "$WORK/full.headers" || fail "the 503 has no Retry-After"
grep -q 'max-event-streams' "$WORK/full" || fail "the 503 does not say which limit: $(cat "$WORK/full")"
pass "--web.max-event-streams=24: the 25th stream gets 503 with Retry-After"
start=$(date +%s%N)
for _ in 1 2 3; do
	[ "$(status_of /metrics "${AUTH[@]}")" = 200 ] || fail "/metrics failed beside 24 streams"
done
ms=$((($(date +%s%N) - start) / 1000000))
[ "$ms" -lt $(($(scaled 10) * 1000)) ] || fail "3 scrapes took $ms ms beside 24 idle streams"
pass "3 scrapes answered in $ms ms beside 24 idle streams on 4 server threads"

# An idle stream gets a heartbeat comment.
wait_grep '^: heartbeat$' "$WORK/s1" 25 || fail "no heartbeat in 25 s: $(cat "$WORK/s1")"
pass "an idle stream gets a ': heartbeat' comment"

# A reload of the web configuration ends every stream (the client reconnects under the new one).
kill -HUP "$KOBS_PID"
for _ in $(seq 1 $(($(scaled 10) * 20))); do
	kill -0 "$s1" 2>/dev/null || break
	sleep 0.05
done
kill -0 "$s1" 2>/dev/null && fail "the stream did not end within $(scaled 10) s of a reload"
wait "$s1" || fail "the stream ended with an error after a reload: $(cat "$WORK/s1.err")"
pass "a reload ends the streams opened under the old web configuration, cleanly"
stream "$WORK/again"
wait_grep '^retry: 1000' "$WORK/again" 10 || fail "no stream after the reload: $(cat "$WORK/again.err")"
pass "a new stream opens after the reload"

# /live: the page, and the landing page's link to it.
fetch /live "${AUTH[@]}" -D "$WORK/live.headers" -o "$WORK/live.html"
grep -qi '^Content-Type: text/html' "$WORK/live.headers" || fail "/live is not HTML"
grep -qi "^Content-Security-Policy: default-src 'self'" "$WORK/live.headers" ||
	fail "/live has no Content-Security-Policy that keeps it to this server"
grep -q "new EventSource('/api/events')" "$WORK/live.html" || fail "/live does not read /api/events"
grep -q 'data-metrics="/metrics"' "$WORK/live.html" || fail "/live does not know the metrics path"
! grep -Eq '(src|href)="(https?:)?//' "$WORK/live.html" || fail "/live loads something from elsewhere"
fetch / "${AUTH[@]}" | matches '<a href="/live">' || fail "the landing page has no link to /live"
pass "/live is one self-contained page reading /api/events and /metrics, linked from /"

# Stopping ends the streams at once: the daemon does not wait for them.
start=$(date +%s%N)
stop_kobsd || fail "exit status"
ms=$((($(date +%s%N) - start) / 1000000))
[ "$ms" -lt $(($(scaled 5) * 1000)) ] || fail "stopping with 24 streams open took $ms ms"
pass "the daemon stops in $ms ms with 24 streams open"
