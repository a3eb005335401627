#!/bin/bash
# HTTP behaviour of the real daemon: routes, methods, negotiation, gzip, limits, signals.
. "$(dirname "$0")/lib.sh"

start_kobsd

fetch /metrics -D "$WORK/h" -o "$WORK/body"
grep -qi '^content-type: text/plain; version=0.0.4; charset=utf-8' "$WORK/h" ||
	fail "text content type: $(cat "$WORK/h")"
grep -q '^kobs_build_info{' "$WORK/body" || fail "no kobs_build_info"
grep -q '^kobs_cpu_seconds_total{cpu="0",mode="user"}' "$WORK/body" || fail "no system metrics"
grep -q '^kobs_scrape_collector_success{collector="system"} 1$' "$WORK/body" ||
	fail "system collector did not succeed"
grep -q '^process_resident_memory_bytes ' "$WORK/body" || fail "no process_* self metrics"
pass "GET /metrics serves text 0.0.4"

for accept in "$ACCEPT_PROM_240" "$ACCEPT_PROM_242" "$ACCEPT_PROM_3"; do
	fetch /metrics -H "Accept: $accept" -D "$WORK/h" -o "$WORK/body"
	grep -qi '^content-type: application/openmetrics-text; version=1.0.0; charset=utf-8' \
		"$WORK/h" || fail "OpenMetrics not negotiated for '$accept'"
	[ "$(tail -n 1 "$WORK/body")" = "# EOF" ] || fail "OpenMetrics body does not end in # EOF"
done
pass "Prometheus' real Accept headers get OpenMetrics"

fetch /metrics -H 'Accept: text/plain;version=0.0.4;q=0.5,*/*;q=0.1' -D "$WORK/h" -o /dev/null
grep -qi '^content-type: text/plain' "$WORK/h" || fail "text not negotiated"
pass "text/plain preference is honoured"

fetch /metrics -H 'Accept-Encoding: gzip' -D "$WORK/h" -o "$WORK/body.gz"
grep -qi '^content-encoding: gzip' "$WORK/h" || fail "no Content-Encoding: gzip"
gzip -dc "$WORK/body.gz" >"$WORK/body" || fail "gzip body does not decode"
grep -q '^kobs_build_info{' "$WORK/body" || fail "decoded gzip body lacks metrics"
fetch /metrics -H 'Accept-Encoding: gzip;q=0, identity' -D "$WORK/h" -o /dev/null
grep -qi '^content-encoding' "$WORK/h" && fail "gzip sent although q=0"
pass "gzip when allowed, and only then"

[ "$(status_of /metrics -I)" = 200 ] || fail "HEAD /metrics"
size=$(curl -sS --max-time 10 -I "$KOBS_URL/metrics" | wc -c)
[ "$size" -lt 1000 ] || fail "HEAD returned a body"
pass "HEAD /metrics answers without a body"

# Prometheus keeps its connection open between scrapes: two GETs in one curl share one.
curl -sS --max-time 10 -v -o /dev/null -o /dev/null "$KOBS_URL/metrics" "$KOBS_URL/metrics" \
	2>"$WORK/verbose" || fail "two scrapes on one connection failed"
grep -q 'Re-using existing connection' "$WORK/verbose" ||
	fail "the connection was not kept alive: $(grep -i '^< connection' "$WORK/verbose")"
pass "GET keeps the connection alive for the next scrape"

[ "$(status_of /metrics -X POST -d x=1)" = 405 ] || fail "POST not 405"
curl -sS --max-time 10 -X DELETE -D "$WORK/h" -o /dev/null "$KOBS_URL/metrics"
grep -qi '^allow: GET, HEAD' "$WORK/h" || fail "405 without Allow header"
pass "other methods get 405 with Allow"

[ "$(status_of /nope)" = 404 ] || fail "unknown path not 404"
[ "$(status_of /metrics/extra)" = 404 ] || fail "/metrics/extra not 404"
pass "unknown paths get 404"

[ "$(status_of /-/healthy)" = 200 ] || fail "/-/healthy"
[ "$(status_of /-/ready)" = 200 ] || fail "/-/ready"
pass "health and readiness"

fetch / -D "$WORK/h" -o "$WORK/page"
grep -qi '^content-type: text/html' "$WORK/h" || fail "landing page content type"
grep -q 'href="/metrics"' "$WORK/page" || fail "landing page lacks the metrics link"
grep -q '<td>system</td><td class="enabled">enabled' "$WORK/page" ||
	fail "landing page lacks the system collector state"
kobsd --version >"$WORK/version"
grep -q "$(awk '{print $2}' "$WORK/version")" "$WORK/page" || fail "landing page lacks version"
pass "landing page shows version, link and collector states"

# A request whose headers exceed the limit is refused; the daemon keeps serving.
big=$(head -c 70000 /dev/zero | tr '\0' 'a')
code=$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' -H "X-Big: $big" "$KOBS_URL/metrics" ||
	true)
case "$code" in 431 | 413 | 400 | 000) ;; *) fail "oversized header got $code" ;; esac
[ "$(status_of /metrics)" = 200 ] || fail "daemon not serving after an oversized request"
pass "oversized headers are refused and the daemon keeps serving"

# Garbage on the socket gets an error or a close, never a crash.
host=${KOBS_URL#http://}
for garbage in 'GARBAGE \x01\x02\x03\r\n\r\n' 'GET /metrics HTTP/1.1\r\nHost: x\r\n\x00\xff\xfe\r\n\r\n' \
	'GET /metrics HTTP/9.9\r\n\r\n' 'GET '"$(head -c 40000 /dev/zero | tr '\0' '/')"' HTTP/1.1\r\n\r\n'; do
	exec 3<>"/dev/tcp/${host%:*}/${host##*:}"
	# The daemon may close before all is written: a write error, not a SIGPIPE that kills the test.
	(trap '' PIPE; printf "$garbage" >&3) 2>/dev/null || true
	timeout 5 cat <&3 >/dev/null || true
	exec 3>&-
done
[ "$(status_of /metrics)" = 200 ] || fail "daemon not serving after garbage requests"
pass "garbage requests do not hurt"

kill -HUP "$KOBS_PID"
sleep 0.3
kill -0 "$KOBS_PID" || fail "SIGHUP killed the daemon"
[ "$(status_of /metrics)" = 200 ] || fail "not serving after SIGHUP"
grep -q 'SIGHUP' "$WORK/kobsd.log" || fail "SIGHUP not logged"
pass "SIGHUP reloads and keeps serving"

stop_kobsd || fail "exit status after SIGTERM was not 0"
pass "SIGTERM stops with 0"

start_kobsd --web.telemetry-path=/prom
[ "$(status_of /prom)" = 200 ] || fail "/prom"
[ "$(status_of /metrics)" = 404 ] || fail "/metrics still served with a custom path"
fetch / | matches 'href="/prom"' || fail "landing page link ignores the telemetry path"
stop_kobsd || fail "exit status"
pass "--web.telemetry-path moves the metrics"

if "$PYTHON" -c 'import socket; s=socket.socket(socket.AF_INET6); s.bind(("::1", 0))' 2>/dev/null; then
	start_kobsd '--web.listen-address=[::1]:0' '--web.listen-address=127.0.0.1:0'
	grep -q 'listening on \[::1\]:' "$WORK/kobsd.log" || fail "no IPv6 listener"
	v6=$(sed -n 's/.*listening on \(\[::1\]:[0-9]*\),.*/\1/p' "$WORK/kobsd.log")
	[ "$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' "http://$v6/metrics")" = 200 ] ||
		fail "IPv6 scrape"
	v4=$(sed -n 's/.*listening on \(127\.0\.0\.1:[0-9]*\),.*/\1/p' "$WORK/kobsd.log")
	[ "$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' "http://$v4/metrics")" = 200 ] ||
		fail "IPv4 scrape next to IPv6"
	stop_kobsd || fail "exit status"
	pass "IPv6 and IPv4 listeners side by side"
else
	echo "# IPv6 loopback unavailable; IPv6 listener not tested"
fi
