#!/bin/bash
# The command line: help, version, exit codes, and configuration errors naming file, line, column.
. "$(dirname "$0")/lib.sh"

expect_exit() {
	local want=$1
	shift
	local got=0
	kobsd "$@" >"$WORK/out" 2>"$WORK/err" || got=$?
	[ "$got" -eq "$want" ] || fail "kobsd $* exited $got, expected $want: $(cat "$WORK/err")"
}

# expect_exit_within WANT ARGS...: expect_exit, but a run that outlives a bounded wait fails
# instead of hanging the test.
expect_exit_within() {
	local want=$1
	shift
	local got=0
	timeout -s KILL "$(scaled 20)" "${KOBSD_RUN[@]}" "$@" >"$WORK/out" 2>"$WORK/err" || got=$?
	[ "$got" -ne 137 ] || fail "kobsd $* did not return within $(scaled 20) s"
	[ "$got" -eq "$want" ] || fail "kobsd $* exited $got, expected $want: $(cat "$WORK/err")"
	valgrind_verdict || fail "valgrind found problems (above)"
}

expect_exit 0 --help
grep -q -- '--web.listen-address' "$WORK/out" || fail "--help does not list --web.listen-address"
grep -q -- 'system' "$WORK/out" || fail "--help does not list the system collector"
pass "--help lists flags and collectors"

expect_exit 0 --version
grep -q '^kobsd [0-9]' "$WORK/out" || fail "--version printed: $(cat "$WORK/out")"
grep -Eq '^features: [+-]systemd [+-]bpf [+-]seccomp$' "$WORK/out" || fail "--version does not list the built-in features: $(cat "$WORK/out")"
pass "--version"

expect_exit 64 --no-such-flag
grep -q 'no-such-flag' "$WORK/err" || fail "unknown flag message does not name it"
pass "unknown flag exits 64 and names it"

expect_exit 64 --collector.nosuch
pass "unknown collector exits 64"

expect_exit 64 --web.listen-address=::1:80
grep -q '\[address\]:port' "$WORK/err" || fail "bad address message: $(cat "$WORK/err")"
pass "malformed listen address exits 64"

# The same address twice is a usage error that says so, not "is another kobsd running?". The
# port is free, so that a daemon that did not check would start.
port=$("$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
expect_exit_within 64 ${NO_BPF[@]+"${NO_BPF[@]}"} --web.listen-address="127.0.0.1:$port" --web.listen-address="127.0.0.1:$port"
grep -qF -- "--web.listen-address=127.0.0.1:$port is given twice" "$WORK/err" ||
	fail "repeated address message: $(cat "$WORK/err")"
expect_exit_within 64 ${NO_BPF[@]+"${NO_BPF[@]}"} --web.listen-address=":$port" --web.listen-address="0.0.0.0:$port"
grep -qF -- "overlap: :$port takes port $port on every address, IPv4 and IPv6" "$WORK/err" ||
	fail "overlapping addresses message: $(cat "$WORK/err")"
pass "an address given twice, or within a wildcard given too, exits 64 saying so"

printf 'process_names:\n  - name: x\n   bad: [\n' >"$WORK/bad.yml"
expect_exit 78 --config.file="$WORK/bad.yml"
grep -q "$WORK/bad.yml:3:" "$WORK/err" || fail "config error lacks file:line: $(cat "$WORK/err")"
pass "bad config exits 78 naming file and line"

expect_exit 78 --check-config --config.file="$WORK/bad.yml"
pass "--check-config on a bad file exits 78"

printf 'process_names:\n  - name: "{{.Comm}}"\n    cmdline: [".+"]\n' >"$WORK/good.yml"
expect_exit 0 --check-config --config.file="$WORK/good.yml"
pass "--check-config on a good file exits 0"

expect_exit 78 --config.file="$WORK/missing.yml"
grep -q 'missing.yml' "$WORK/err" || fail "missing config message does not name the file"
pass "missing config file exits 78"


# Whatever the path turns out to be, the check ends at once naming it: opening a FIFO for
# reading used to wait for a writer forever.
mkfifo "$WORK/fifo.yml"
ln -s "$WORK/fifo.yml" "$WORK/link.yml"
for odd in "$WORK/fifo.yml:named pipe (FIFO)" "$WORK/link.yml:named pipe (FIFO)" \
	"/dev/zero:character device" "$WORK:directory"; do
	path=${odd%%:*}
	expect_exit_within 78 --check-config --config.file="$path"
	grep -qF "$path: is a ${odd#*:}, not a regular file" "$WORK/err" ||
		fail "--config.file=$path: $(cat "$WORK/err")"
done
pass "a FIFO, a link to one, a device or a directory as --config.file exits 78 at once, naming it"

printf 'process_names:\n  - name: x\0y\n' >"$WORK/nul.yml"
expect_exit 78 --check-config --config.file="$WORK/nul.yml"
grep -qF "$WORK/nul.yml:2:12: control characters are not allowed (a NUL byte)" "$WORK/err" ||
	fail "NUL byte message: $(cat "$WORK/err")"
pass "a NUL byte in the config is reported at its line and column"

# A port already taken: a clear message and a non-zero exit, not a hang.
start_kobsd
taken=${KOBS_URL#http://}
expect_exit 1 --web.listen-address="$taken"
grep -q 'in use (is another kobsd running?' "$WORK/err" ||
	fail "address-in-use message: $(cat "$WORK/err")"
pass "address in use by another process is explained"
stop_kobsd || fail "SIGTERM exit status was not 0"
pass "SIGTERM exits 0"

# SIGHUP when the config file has become a FIFO: the reload fails with a message, the old
# configuration keeps serving, and SIGTERM still stops the daemon (it used to block in open(2)).
cp "$WORK/good.yml" "$WORK/reload.yml"
start_kobsd --config.file="$WORK/reload.yml"
readable_by_daemon
rm "$WORK/reload.yml"
mkfifo "$WORK/reload.yml"
kill -HUP "$KOBS_PID"
wait_grep "reload failed, keeping the running configuration: $WORK/reload.yml: is a named pipe" \
	"$WORK/kobsd.log" || fail "no reload error for a FIFO"
fetch /metrics -o "$WORK/body"
grep -q '^kobs_build_info{' "$WORK/body" || fail "no metrics after the failed reload"
stop_kobsd || fail "SIGTERM exit status after a failed reload was not 0"
pass "SIGHUP on a config that became a FIFO: error logged, old config kept, SIGTERM stops it"

# A build without eBPF knows the bpf collector's name: turning it off is what the build does
# anyway (a unit file shared with other builds passes --no-collector.bpf), turning it on says why
# it cannot be had.
if "$KOBSD" --version | matches -- '-bpf'; then
	check=(--check-config --config.file="$KOBS_SRCDIR/contrib/kobsd.yml")
	status=0
	"$KOBSD" --no-collector.bpf "${check[@]}" >"$WORK/out" 2>&1 || status=$?
	[ $status = 0 ] || fail "--no-collector.bpf without eBPF: exit $status: $(cat "$WORK/out")"
	status=0
	"$KOBSD" --collector.bpf "${check[@]}" >"$WORK/out" 2>&1 || status=$?
	[ $status = 64 ] && grep -q 'built without the bpf collector' "$WORK/out" ||
		fail "--collector.bpf without eBPF: exit $status: $(cat "$WORK/out")"
	pass "without eBPF: --no-collector.bpf is accepted, --collector.bpf says the build lacks it"
fi
