#!/bin/bash
# --web.config.file: basic authentication with bcrypt hashes, TLS with a real certificate, client
# certificates, reload on SIGHUP (new certificate without restart; a bad file keeps the old one),
# and a bad file at start exits 78 naming the line.
. "$(dirname "$0")/lib.sh"
command -v openssl >/dev/null || fail "openssl not installed (contrib/install-deps.sh)"

hash=$("$PYTHON" -W ignore -c 'import crypt; print(crypt.crypt("s3cret", crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16)))')
case "$hash" in \$2*) ;; *) fail "could not make a bcrypt hash: $hash" ;; esac

# ---- basic authentication ----
cat >"$WORK/auth.yml" <<YML
basic_auth_users:
  prometheus: $hash
YML
start_kobsd --web.config.file="$WORK/auth.yml"
curl -sS --max-time 10 -D "$WORK/h" -o "$WORK/body" "$KOBS_URL/metrics"
grep -q '^HTTP/1.1 401' "$WORK/h" || fail "no credentials: not 401: $(head -1 "$WORK/h")"
grep -qi '^WWW-Authenticate: Basic realm="kobsd"' "$WORK/h" || fail "no WWW-Authenticate"
grep -q 'kobs_' "$WORK/body" && fail "metrics leaked before authentication"
[ "$(status_of /nope)" = 401 ] || fail "unknown path answered before authentication"
[ "$(status_of /)" = 401 ] || fail "landing page answered before authentication"
[ "$(status_of /metrics -u prometheus:wrong)" = 401 ] || fail "wrong password accepted"
[ "$(status_of /metrics -u nobody:s3cret)" = 401 ] || fail "unknown user accepted"
[ "$(status_of /metrics -u prometheus:s3cret)" = 200 ] || fail "right password refused"
fetch /metrics -u prometheus:s3cret | matches '^kobs_build_info{' || fail "no metrics after auth"
pass "basic auth: 401 with WWW-Authenticate until the bcrypt password matches; nothing leaks"

# A bad file on SIGHUP is reported; the old users stay.
printf 'basic_auth_users:\n  prometheus: plaintext\n' >"$WORK/auth.yml"
readable_by_daemon
kill -HUP "$KOBS_PID"
sleep 0.5
grep -q 'reload failed, keeping the running configuration: .*auth.yml:2:' "$WORK/kobsd.log" ||
	fail "bad reload not reported with a line number"
[ "$(status_of /metrics -u prometheus:s3cret)" = 200 ] || fail "old users gone after a bad reload"
[ "$(status_of /metrics)" = 401 ] || fail "auth dropped after a bad reload"
pass "a bad web config on SIGHUP is reported and the old one keeps running"
stop_kobsd || fail "exit status"

# ---- TLS ----
make_cert() { # make_cert NAME CN: a CA-signed certificate for CN
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$1-ca" \
		-keyout "$WORK/$1-ca.key" -out "$WORK/$1-ca.crt" 2>/dev/null
	openssl req -newkey rsa:2048 -nodes -subj "/CN=$2" -keyout "$WORK/$1.key" \
		-out "$WORK/$1.csr" 2>/dev/null
	printf 'subjectAltName=DNS:%s,IP:127.0.0.1\n' "$2" >"$WORK/$1.ext"
	openssl x509 -req -in "$WORK/$1.csr" -CA "$WORK/$1-ca.crt" -CAkey "$WORK/$1-ca.key" \
		-CAcreateserial -days 2 -extfile "$WORK/$1.ext" -out "$WORK/$1.crt" 2>/dev/null
}
make_cert server localhost
make_cert server2 localhost
make_cert client scraper
cat >"$WORK/tls.yml" <<YML
tls_server_config:
  cert_file: server.crt
  key_file: server.key
YML
start_kobsd --web.config.file="$WORK/tls.yml"
HTTPS=${KOBS_URL/http:/https:}
code=$(curl -sS --max-time 10 --cacert "$WORK/server-ca.crt" -o "$WORK/body" -w '%{http_code}' "$HTTPS/metrics")
[ "$code" = 200 ] || fail "HTTPS scrape got $code"
check_text "$WORK/body"
curl -sS --max-time 5 -o /dev/null "$KOBS_URL/metrics" 2>/dev/null &&
	fail "plain HTTP answered on the TLS port"
curl -sS --max-time 5 --cacert "$WORK/server-ca.crt" --tls-max 1.1 -o /dev/null "$HTTPS/metrics" \
	2>/dev/null && fail "TLS 1.1 accepted although the minimum is TLS 1.2"
pass "TLS: served with the configured certificate (paths relative to the file), TLS 1.2+ only"

# New certificate on SIGHUP, without a restart.
cp "$WORK/server2.crt" "$WORK/server.crt"
cp "$WORK/server2.key" "$WORK/server.key"
readable_by_daemon # the key too: openssl wrote it 0600
kill -HUP "$KOBS_PID"
sleep 0.5
code=$(curl -sS --max-time 10 --cacert "$WORK/server2-ca.crt" -o /dev/null -w '%{http_code}' "$HTTPS/metrics")
[ "$code" = 200 ] || fail "new certificate not served after SIGHUP (got $code)"
curl -sS --max-time 5 --cacert "$WORK/server-ca.crt" -o /dev/null "$HTTPS/metrics" 2>/dev/null &&
	fail "old certificate still served after SIGHUP"
pass "SIGHUP swaps the certificate without a restart"

# A key file that became a FIFO: the reload fails at once, naming where the web config names it;
# the running certificate stays, and SIGTERM still stops the daemon (open(2) used to block).
mv "$WORK/server.key" "$WORK/server.key.real"
mkfifo "$WORK/server.key"
kill -HUP "$KOBS_PID"
wait_grep "reload failed, keeping the running configuration: $WORK/tls.yml:3:13: key_file $WORK/server.key: is a named pipe (FIFO)" \
	"$WORK/kobsd.log" || fail "no reload error naming the FIFO key file and its line"
code=$(curl -sS --max-time 10 --cacert "$WORK/server2-ca.crt" -o /dev/null -w '%{http_code}' "$HTTPS/metrics")
[ "$code" = 200 ] || fail "not served with the running certificate after the failed reload ($code)"
stop_kobsd || fail "exit status after a failed reload"
rm "$WORK/server.key"
mv "$WORK/server.key.real" "$WORK/server.key"
pass "SIGHUP with a key file that became a FIFO: error with file:line:column, TLS kept, SIGTERM stops"

# ---- client certificates ----
cat >"$WORK/mtls.yml" <<YML
tls_server_config:
  cert_file: server2.crt
  key_file: server2.key
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: client-ca.crt
YML
start_kobsd --web.config.file="$WORK/mtls.yml"
HTTPS=${KOBS_URL/http:/https:}
code=$(curl -sS --max-time 10 --cacert "$WORK/server2-ca.crt" -o "$WORK/body" -w '%{http_code}' "$HTTPS/metrics" 2>/dev/null || true)
[ "$code" != 200 ] || fail "served without a client certificate"
grep -q 'kobs_' "$WORK/body" 2>/dev/null && fail "metrics leaked without a client certificate"
code=$(curl -sS --max-time 10 --cacert "$WORK/server2-ca.crt" --cert "$WORK/server.crt" \
	--key "$WORK/server.key" -o /dev/null -w '%{http_code}' "$HTTPS/metrics" 2>/dev/null || true)
[ "$code" != 200 ] || fail "served to a client certificate from another CA"
code=$(curl -sS --max-time 10 --cacert "$WORK/server2-ca.crt" --cert "$WORK/client.crt" \
	--key "$WORK/client.key" -o /dev/null -w '%{http_code}' "$HTTPS/metrics")
[ "$code" = 200 ] || fail "verified client certificate refused ($code)"
stop_kobsd || fail "exit status"
pass "RequireAndVerifyClientCert: only clients with a certificate from client_ca_file"

# ---- a bad file at start ----
printf 'tls_server_config:\n  cert_file: a\n  kee_file: b\n' >"$WORK/bad.yml"
status=0
kobsd --web.config.file="$WORK/bad.yml" 2>"$WORK/err" || status=$?
[ $status -eq 78 ] || fail "bad web config exit status $status, expected 78"
grep -q "bad.yml:3:3: unknown key tls_server_config.kee_file" "$WORK/err" ||
	fail "message: $(cat "$WORK/err")"
printf 'tls_server_config:\n  cert_file: missing.crt\n  key_file: missing.key\n' >"$WORK/bad.yml"
status=0
kobsd --web.config.file="$WORK/bad.yml" 2>"$WORK/err" || status=$?
[ $status -eq 78 ] || fail "missing certificate exit status $status"
grep -qF "bad.yml:2:14: cert_file $WORK/missing.crt: No such file" "$WORK/err" ||
	fail "missing certificate message lacks the web config's file, line and column: $(cat "$WORK/err")"
status=0
kobsd --check-config --web.config.file="$WORK/tls.yml" >/dev/null 2>&1 || status=$?
[ $status -eq 0 ] || fail "--check-config rejects a good web config"
printf 'tls_server_config:\n  cert_file: server.crt\n  key_file: /dev/zero\n' >"$WORK/bad.yml"
status=0
timeout -s KILL "$(scaled 20)" "${KOBSD_RUN[@]}" --check-config --web.config.file="$WORK/bad.yml" \
	2>"$WORK/err" || status=$?
valgrind_verdict || fail "valgrind found problems (above)"
[ $status -eq 78 ] || fail "a device as key_file: exit status $status"
grep -qF "bad.yml:3:13: key_file /dev/zero: is a character device, not a regular file" "$WORK/err" ||
	fail "message: $(cat "$WORK/err")"
pass "a bad web config exits 78 naming file, line and column"
