#!/bin/bash
# Socket activation the way systemd does it: systemd-socket-activate holds the listening socket
# and starts kobsd --web.systemd-socket on the first connection, passing it through LISTEN_FDS.
. "$(dirname "$0")/lib.sh"
require_systemd
ACTIVATE=$(command -v systemd-socket-activate || true)
[ -n "$ACTIVATE" ] || fail "systemd-socket-activate not installed (package systemd)"

port=$("$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$ACTIVATE" -l "127.0.0.1:$port" "${KOBSD_RUN[@]}" ${NO_BPF[@]+"${NO_BPF[@]}"} --web.systemd-socket 2>"$WORK/kobsd.log" &
KOBS_PID=$!
KOBS_URL="http://127.0.0.1:$port"
wait_grep 'Listening on' "$WORK/kobsd.log" || fail "systemd-socket-activate did not start listening"
fetch /metrics -o "$WORK/body"
grep -q '^kobs_build_info{' "$WORK/body" || fail "no metrics through the inherited socket"
check_text "$WORK/body"
grep -q 'listening on 127.0.0.1:'"$port" "$WORK/kobsd.log" || fail "kobsd did not log the inherited socket"
pass "/metrics served through a socket passed by systemd-socket-activate"
[ "$(status_of /-/ready)" = 200 ] || fail "not ready"
stop_kobsd || fail "exit status after SIGTERM"
pass "stops with 0"

# Without sockets to inherit, the flag is a clear error, not a silent default listener.
status=0
kobsd --web.systemd-socket 2>"$WORK/err" || status=$?
[ $status -ne 0 ] || fail "--web.systemd-socket without LISTEN_FDS started anyway"
grep -q 'no sockets were passed' "$WORK/err" || fail "unclear message: $(cat "$WORK/err")"
pass "--web.systemd-socket without LISTEN_FDS fails with a clear message"
