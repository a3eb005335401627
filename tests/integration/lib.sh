# Shared by the integration tests: start the real daemon on a free loopback port, fetch from
# it, and clean up whatever happens. Every wait is bounded.
set -euo pipefail

: "${KOBSD:?KOBSD must point at the built daemon (make check sets it)}"
: "${KOBS_SRCDIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${KOBS_FIXTURES:=$KOBS_SRCDIR/tests/fixtures}"
# Debian's python3, which has the python3-prometheus-client package (a pyenv python3 on PATH
# would not).
PYTHON=/usr/bin/python3
[ -x "$PYTHON" ] || PYTHON=python3

# Every bounded wait is multiplied by this: under valgrind (KOBS_VALGRIND=1, the third pass of
# tests/run-all.sh) the daemon runs 20-50 times slower.
if [ "${KOBS_VALGRIND:-0}" = 1 ]; then
	: "${KOBS_TIME_FACTOR:=10}"
else
	: "${KOBS_TIME_FACTOR:=1}"
fi

# scaled SECONDS: a bounded wait, stretched by KOBS_TIME_FACTOR.
scaled() {
	echo $(($1 * KOBS_TIME_FACTOR))
}

# rss_kib PID: resident memory of a process, in KiB.
rss_kib() {
	awk '/^VmRSS:/ {print $2}' "/proc/$1/status"
}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/kobs-test.XXXXXX")
KOBS_PID=""
KOBS_URL=""
EXTRA_PIDS=()

# How to run the daemon: under valgrind in the valgrind pass (tests/valgrind.sh), with each run's
# report in $WORK/valgrind.PID.log. Tests run it as "${KOBSD_RUN[@]}", or through kobsd() or
# start_kobsd, never as "$KOBSD".
KOBSD_RUN=("$KOBSD")
if [ "${KOBS_VALGRIND:-0}" = 1 ]; then
	command -v valgrind >/dev/null || {
		echo "FAIL: valgrind not installed (contrib/install-deps.sh)" >&2
		exit 1
	}
	KOBSD_RUN=(/bin/sh "$KOBS_SRCDIR/tests/valgrind.sh" "$KOBSD")
	export KOBS_VALGRIND_LOG="$WORK/valgrind.%p.log"
	mkdir -p "$WORK/valgrind-clean" "$WORK/valgrind-bad"
fi

# valgrind_problems LOG: what valgrind found in one finished run of the daemon, nothing when all is
# well: memcheck errors (definite and indirect leaks count as errors, see tests/valgrind.sh), or
# a file descriptor the daemon opened and left open at exit. Not counted: descriptors inherited
# from the test, and the journal socket libsystemd's sd_journal_sendv() opens once and keeps for
# the life of the process (it has no call to close it).
valgrind_problems() {
	if ! grep -q 'ERROR SUMMARY: ' "$1"; then
		echo "valgrind did not finish: the daemon was killed"
		return
	fi
	grep -q 'ERROR SUMMARY: 0 errors' "$1" || grep 'ERROR SUMMARY: ' "$1"
	awk '
	function judge() {
		if (fd != "" && block !~ /inherited from parent|sd_journal_sendv/)
			print "left open at exit: " fd
		fd = ""
	}
	/ Open (file descriptor|[A-Z0-9_]+ socket) [0-9]+/ { judge(); fd = $0; block = ""; next }
	/^==[0-9]+== *$/ { judge(); next }
	{ block = block $0 }
	END { judge() }' "$1"
}

# valgrind_verdict: check the report of every daemon that has exited since the last call; print
# the problems with the report and return 1 when there are any. Reports are put aside once
# checked, the bad ones where cleanup() still sees them (a check in a subshell cannot fail the
# test by itself).
valgrind_verdict() {
	local log pid problems bad=0
	[ "${KOBS_VALGRIND:-0}" = 1 ] || return 0
	for log in "$WORK"/valgrind.*.log; do
		[ -f "$log" ] || continue
		pid=${log##*/valgrind.}
		pid=${pid%.log}
		kill -0 "$pid" 2>/dev/null && continue
		problems=$(valgrind_problems "$log")
		if [ -z "$problems" ]; then
			mv "$log" "$WORK/valgrind-clean/"
			continue
		fi
		bad=1
		echo "FAIL: valgrind: $problems" >&2
		echo "--- ${log##*/} ---" >&2
		head -n 150 "$log" >&2
		mv "$log" "$WORK/valgrind-bad/"
	done
	return $bad
}

# On exit, whatever happened: stop what the test started and remove $WORK. A problem valgrind
# found makes the test fail even when everything else passed.
cleanup() {
	local pid i
	[ -z "$STOPPED_AT" ] || echo "FAIL: set -e stopped the test at $STOPPED_AT" >&2
	# Under valgrind the daemon is stopped, not killed, so that its leak check runs.
	if [ "${KOBS_VALGRIND:-0}" = 1 ] && [ -n "$KOBS_PID" ] && kill -TERM "$KOBS_PID" 2>/dev/null; then
		for i in $(seq 1 $((20 * $(scaled 10)))); do
			kill -0 "$KOBS_PID" 2>/dev/null || break
			sleep 0.05
		done
	fi
	for pid in ${EXTRA_PIDS[@]+"${EXTRA_PIDS[@]}"} $KOBS_PID; do
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	local bad=0
	if [ "${KOBS_VALGRIND:-0}" = 1 ]; then
		valgrind_verdict || bad=1
		[ -z "$(ls -A "$WORK/valgrind-bad")" ] || bad=1
		echo "# valgrind: $(ls "$WORK/valgrind-clean" | wc -l) clean and" \
			"$(ls "$WORK/valgrind-bad" | wc -l) bad reports from the daemon's runs"
	fi
	rm -rf "$WORK"
	[ $bad -eq 0 ] || exit 1
}
trap cleanup EXIT

# A command that fails outside a condition ends the test (set -e). The ERR trap notes which one
# and cleanup() says it, so that no test ends without a word (seen: mawk stopping with status 2
# on a /proc file that had just vanished). It notes nothing between set +e and set -e, and what
# a command substitution notes stays in its subshell, where a failure does not end the test.
STOPPED_AT=""
set -E
trap 'stopped=($? $LINENO); [[ $- != *e* ]] ||
	STOPPED_AT="${BASH_SOURCE[0]##*/} line ${stopped[1]}: $BASH_COMMAND (status ${stopped[0]})"' ERR

fail() {
	echo "FAIL: $*" >&2
	if [ -f "$WORK/kobsd.log" ]; then
		echo "--- kobsd log ---" >&2
		tail -n 30 "$WORK/kobsd.log" >&2
	fi
	exit 1
}

skip() {
	echo "SKIP: $*"
	exit 77
}

pass() {
	echo "ok - $*"
}

# ... | matches [GREP-FLAGS] PATTERN: whether the input has a matching line. Unlike `grep -q`, it reads
# its input to the end: grep -q leaves at the first match, the writer then dies of SIGPIPE, and
# pipefail turns a match into a failure (seen: 64 journal entries, `kobsd --help`, a scrape).
matches() { grep "$@" >/dev/null; }

# disk_under DIR: the name of the disk that holds DIR's file system, as the kernel names it in
# /sys/block (never a partition), following device-mapper and md devices down to the first
# disk; nothing when DIR's file system has no block device.
disk_under() {
	local sys below
	sys=$(readlink -f "/sys/dev/block/$(stat -c '%Hd:%Ld' "$1")") || return 0
	[ -d "$sys" ] || return 0
	while :; do
		[ -e "$sys/partition" ] && sys=${sys%/*}
		below=$(ls "$sys/slaves" 2>/dev/null | head -n 1)
		[ -n "$below" ] || break
		sys=$(readlink -f "$sys/slaves/$below")
	done
	echo "${sys##*/}"
}

# reload_kobsd: SIGHUP to the daemon, then wait (bounded) until its log has one more "reloaded
# the configuration" than before; the caller checks what the reload did.
reload_kobsd() {
	local before
	before=$(grep -c 'reloaded the configuration' "$WORK/kobsd.log" || true)
	kill -HUP "$KOBS_PID"
	for _ in $(seq 1 $(($(scaled 5) * 20))); do
		[ "$(grep -c 'reloaded the configuration' "$WORK/kobsd.log")" -gt "$before" ] && return 0
		sleep 0.05
	done
	return 0
}

# start_kobsd [flags...]: runs the daemon on 127.0.0.1 with a kernel-chosen port (unless the
# flags give --web.listen-address) and sets KOBS_URL once it is listening.
# The bpf collector (when built) is left out unless KOBS_WITH_BPF=1 (tests that run the daemon
# themselves pass "${NO_BPF[@]}" too): with it, a daemon started as
# root drops its capabilities after start and then reads /proc as an unprivileged process would,
# which the tests of the /proc side do not expect. tests/integration/bpf.sh tests it.
# set_no_bpf: NO_BPF as KOBS_WITH_BPF says now (start_kobsd calls it again, so that a test may
# set KOBS_WITH_BPF after sourcing this file).
set_no_bpf() {
	NO_BPF=()
	if [ "${KOBS_WITH_BPF:-0}" != 1 ] && "$KOBSD" --help 2>/dev/null | matches '^  bpf '; then
		NO_BPF=(--no-collector.bpf)
	fi
}
set_no_bpf

start_kobsd() {
	local listen=(--web.listen-address=127.0.0.1:0)
	local a
	for a in "$@"; do
		case "$a" in --web.listen-address*) listen=() ;; esac
	done
	set_no_bpf
	listen+=(${NO_BPF[@]+"${NO_BPF[@]}"})
	: >"$WORK/kobsd.log"
	"${KOBSD_RUN[@]}" ${listen[@]+"${listen[@]}"} "$@" 2>>"$WORK/kobsd.log" &
	KOBS_PID=$!
	local i addr
	for i in $(seq 1 $((20 * $(scaled 10)))); do
		addr=$(sed -n 's/.*listening on \([^,]*\),.*/\1/p' "$WORK/kobsd.log" | head -n 1)
		if [ -n "$addr" ]; then
			KOBS_URL="http://$addr"
			return 0
		fi
		kill -0 "$KOBS_PID" 2>/dev/null || fail "kobsd exited at start"
		sleep 0.05
	done
	fail "kobsd did not start listening within $(scaled 10) s"
}

# stop_kobsd: SIGTERM, and wait (bounded) for the exit status, which it returns. Under valgrind,
# fails the test when valgrind found anything.
stop_kobsd() {
	local i status=0
	kill -TERM "$KOBS_PID"
	for i in $(seq 1 $((20 * $(scaled 10)))); do
		kill -0 "$KOBS_PID" 2>/dev/null || break
		sleep 0.05
	done
	kill -0 "$KOBS_PID" 2>/dev/null && fail "kobsd did not stop within $(scaled 10) s of SIGTERM"
	wait "$KOBS_PID" || status=$?
	KOBS_PID=""
	valgrind_verdict || fail "valgrind found problems (above)"
	return $status
}

# kobsd ARGS...: run the daemon in the foreground and return its exit status. Under valgrind,
# fails the test when valgrind found anything.
kobsd() {
	local status=0
	"${KOBSD_RUN[@]}" "$@" || status=$?
	valgrind_verdict || fail "valgrind found problems (above)"
	return $status
}

# fetch PATH [curl args...]: body to stdout; fails the test on transport errors.
fetch() {
	local path=$1
	shift
	curl -sS --max-time "$(scaled 10)" "$@" "$KOBS_URL$path" || fail "curl $path failed"
}

# status_of PATH [curl args...]: just the HTTP status code.
status_of() {
	local path=$1
	shift
	curl -sS --max-time "$(scaled 10)" -o /dev/null -w '%{http_code}' "$@" "$KOBS_URL$path" ||
		fail "curl $path failed"
}

# The Accept headers real Prometheus servers send (see shared/BRIEF.md).
ACCEPT_PROM_242='application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1'
ACCEPT_PROM_240='application/openmetrics-text;version=1.0.0;q=0.75,application/openmetrics-text;q=0.6,text/plain;version=0.0.4;q=0.5,*/*;q=0.1'
# Prometheus 2.42 started with --enable-feature=native-histograms.
ACCEPT_PROM_242_NATIVE='application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited,application/openmetrics-text;version=1.0.0;q=0.8,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1'
ACCEPT_PROM_3='application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1'

# check_text FILE: promtool must accept the text exposition and print nothing at all.
check_text() {
	local out
	command -v promtool >/dev/null || fail "promtool not installed (contrib/install-deps.sh)"
	out=$(promtool check metrics <"$1" 2>&1) || fail "promtool rejected $1: $out"
	[ -z "$out" ] || fail "promtool lint output for $1: $out"
}

# check_openmetrics FILE: the reference OpenMetrics parser must accept it.
check_openmetrics() {
	"$PYTHON" - "$1" <<'PY' || fail "OpenMetrics parser rejected $1"
import sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
with open(sys.argv[1], encoding="utf-8") as f:
    families = list(text_string_to_metric_families(f.read()))
assert families, "no metric families"
PY
}

# require_bpf: skip unless root in a build with the bpf collector; then start_kobsd runs it
# (KOBS_WITH_BPF=1).
require_bpf() {
	[ "$(id -u)" = 0 ] ||
		skip "needs root: the bpf collector loads programs into the kernel (CI runs as root)"
	"$KOBSD" --help | matches '^  bpf ' ||
		skip "kobsd was built without the bpf collector (--help lists no bpf collector)"
	export KOBS_WITH_BPF=1
}

# require_systemd: skip unless kobsd was built with libsystemd (its --version lists +systemd).
require_systemd() {
	"$KOBSD" --version | matches '+systemd' ||
		skip "kobsd was built without libsystemd (configure --with-systemd=yes needs libsystemd-dev)"
}

# wait_grep REGEX FILE [SECONDS]: wait (bounded, 5 s scaled by default) until a line of FILE
# matches the basic regex; returns 1 when none does in time.
wait_grep() {
	local i
	for i in $(seq 1 $(($(scaled "${3:-5}") * 20))); do
		grep -q -- "$1" "$2" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# daemon_as_nobody [SETPRIV-FLAGS...]: from now on start_kobsd runs the daemon as nobody (through
# setpriv with these flags beyond the user and group). Everything nobody needs goes in $WORK,
# which nobody owns (root still reaches it): the daemon and, in the valgrind pass, valgrind's
# wrapper and suppressions, whose log valgrind writes into $WORK. The tree may sit where nobody
# cannot read (the sanitizer pass builds in a 0700 mktemp directory), so the daemon is a copy;
# so are LeakSanitizer's suppressions.
daemon_as_nobody() {
	local as_nobody=(setpriv --reuid=nobody --regid=nogroup --clear-groups "$@")
	chown nobody:nogroup "$WORK"
	install -m 0755 "$KOBSD" "$WORK/kobsd"
	if [ "${KOBS_VALGRIND:-0}" = 1 ]; then
		install -m 0644 "$KOBS_SRCDIR/tests/valgrind.sh" "$KOBS_SRCDIR/tests/valgrind.supp" "$WORK/"
		KOBSD_RUN=("${as_nobody[@]}" /bin/sh "$WORK/valgrind.sh" "$WORK/kobsd")
	else
		KOBSD_RUN=("${as_nobody[@]}" "$WORK/kobsd")
	fi
	# (Once: a second call finds them in $WORK already.)
	if [[ "${LSAN_OPTIONS:-}" =~ suppressions=([^:]*) ]] && [ "${BASH_REMATCH[1]}" != "$WORK/lsan.supp" ]; then
		install -m 0644 "${BASH_REMATCH[1]}" "$WORK/lsan.supp"
		export LSAN_OPTIONS="${LSAN_OPTIONS/suppressions=${BASH_REMATCH[1]}/suppressions=$WORK/lsan.supp}"
	fi
}

# readable_by_daemon: started as root, the daemon serves as nobody (or kobsd) once set up, and
# from then on reads as that user: --path.procfs at every scrape, the configuration and the web
# configuration (with its key) on SIGHUP, the notify socket. Open $WORK and what is in it to
# reading, as a user would their own files (docs/deployment.md).
readable_by_daemon() {
	chmod -R a+rX "$WORK"
}

# start_prometheus [FLAGS...]: a real Prometheus server on a free loopback port, scraping the
# running daemon every second, with FLAGS (such as --enable-feature=...); PROM is its URL,
# prom_query QUERY asks it (nothing on failure).
start_prometheus() {
	local prometheus port
	prometheus=$(command -v prometheus) ||
		fail "prometheus not installed (contrib/install-deps.sh installs it)"
	port=$("$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	cat >"$WORK/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: kobsd
    static_configs:
      - targets: ['${KOBS_URL#http://}']
YML
	"$prometheus" --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/tsdb" \
		--web.listen-address="127.0.0.1:$port" --log.level=warn "$@" >"$WORK/prometheus.log" 2>&1 &
	EXTRA_PIDS+=($!)
	PROM="http://127.0.0.1:$port"
}

prom_query() {
	curl -sS --max-time 5 --get --data-urlencode "query=$1" "$PROM/api/v1/query" 2>/dev/null || true
}
