#!/bin/bash
# Reloading the web configuration never fails a request: HTTPS scrapes with basic
# authentication run without a pause, on new connections and on kept-alive ones, while the
# daemon gets 150 SIGHUPs in 3 s and then 1,000 as fast as they can be sent, with a new
# certificate half-way. Not one scrape may fail; new connections get the new certificate; and
# the daemon ends with the threads and descriptors it had before. The scrapers are
# tests/integration/reload.py.
. "$(dirname "$0")/lib.sh"
command -v openssl >/dev/null || fail "openssl not installed (contrib/install-deps.sh)"

# One CA, two server certificates: the scrapers trust both, and the serial tells them apart.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=reload-ca" \
	-keyout "$WORK/ca.key" -out "$WORK/ca.crt" 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >"$WORK/san.ext"
for n in 1 2; do
	openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$WORK/server$n.key" \
		-out "$WORK/server$n.csr" 2>/dev/null
	openssl x509 -req -in "$WORK/server$n.csr" -CA "$WORK/ca.crt" -CAkey "$WORK/ca.key" \
		-set_serial "$((1000 + n))" -days 2 -extfile "$WORK/san.ext" \
		-out "$WORK/server$n.crt" 2>/dev/null
done
cp "$WORK/server1.crt" "$WORK/server.crt"
cp "$WORK/server1.key" "$WORK/server.key"
hash=$("$PYTHON" -W ignore -c 'import crypt; print(crypt.crypt("s3cret", crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16)))')
cat >"$WORK/web.yml" <<YML
tls_server_config:
  cert_file: server.crt
  key_file: server.key
basic_auth_users:
  prometheus: $hash
YML

served_serial() { # the serial number of the certificate a new connection gets
	openssl s_client -connect "${KOBS_URL#http://}" -CAfile "$WORK/ca.crt" </dev/null 2>/dev/null |
		openssl x509 -noout -serial
}
threads() { ls "/proc/$KOBS_PID/task" | wc -l; }
fds() { ls "/proc/$KOBS_PID/fd" | wc -l; }

start_kobsd --web.config.file="$WORK/web.yml"
readable_by_daemon
host=${KOBS_URL#http://}
[ "$(served_serial)" = "serial=03E9" ] || fail "the first certificate is not served: $(served_serial)"
threads_before=$(threads)
fds_before=$(fds)

"$PYTHON" "$KOBS_SRCDIR/tests/integration/reload.py" "${host%:*}" "${host##*:}" \
	--cafile "$WORK/ca.crt" --user prometheus:s3cret --until "$WORK/stop" --fresh 4 --kept 4 \
	--timeout "$(scaled 10)" >"$WORK/scrapers.json" 2>"$WORK/scrapers.err" &
scrapers=$!
EXTRA_PIDS+=($scrapers)
sleep 1
for i in $(seq 1 150); do
	kill -HUP "$KOBS_PID"
	sleep 0.02
done
cp "$WORK/server2.crt" "$WORK/server.crt"
cp "$WORK/server2.key" "$WORK/server.key"
for i in $(seq 1 1000); do
	kill -HUP "$KOBS_PID"
done
sleep 2
touch "$WORK/stop"
wait $scrapers || fail "scrapes failed during the reloads: $(cat "$WORK/scrapers.err")" \
	"($(cat "$WORK/scrapers.json" 2>/dev/null))"
kill -0 "$KOBS_PID" || fail "the daemon died of the reloads"
pass "1,150 reloads during HTTPS scrapes with basic authentication: none failed" \
	"($(cat "$WORK/scrapers.json"))"

# The last reload has the new certificate; the configurations it replaced are gone once their
# connections have finished.
for i in $(seq 1 $((20 * $(scaled 10)))); do
	[ "$(served_serial)" = "serial=03EA" ] && break
	sleep 0.05
done
[ "$(served_serial)" = "serial=03EA" ] || fail "the new certificate is not served: $(served_serial)"
pass "new connections get the certificate of the last reload"
for i in $(seq 1 $((20 * $(scaled 10)))); do
	[ "$(threads)" -le "$threads_before" ] && [ "$(fds)" -le "$fds_before" ] && break
	sleep 0.05
done
[ "$(threads)" -le "$threads_before" ] ||
	fail "$(threads) threads after the reloads, $threads_before before"
[ "$(fds)" -le "$fds_before" ] || fail "$(fds) open descriptors after the reloads, $fds_before before"
pass "back to $(threads) threads and $(fds) descriptors after the reloads"
stop_kobsd || fail "exit status"
