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

# A port already taken: a clear message and a non-zero exit, not a hang.
start_kobsd
taken=${KOBS_URL#http://}
expect_exit 1 --web.listen-address="$taken"
grep -q 'in use' "$WORK/err" || fail "address-in-use message: $(cat "$WORK/err")"
pass "address in use is explained"
stop_kobsd || fail "SIGTERM exit status was not 0"
pass "SIGTERM exits 0"
