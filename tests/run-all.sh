#!/bin/bash
# The whole test suite, as the README and CI run it:
#   1. a development build (-Werror) and `make check`: unit tests (cmocka) and every integration
#      test against the real daemon, promtool, a real Prometheus server, node_exporter, Chromium;
#   2. a build with AddressSanitizer and UndefinedBehaviorSanitizer, in a scratch copy of the tree
#      so that the first build stays as it is: the unit tests and SANITIZER_TESTS below, the
#      integration tests that drive the daemon's own code (requests, expositions, reloads, /proc
#      and BPF collection, events, host collectors); the tests that mostly wait on peers (a
#      Prometheus evaluating rules, Chromium rendering dashboards, packaging) run in pass 1 only;
#   3. the development build once more with every unit test and the daemon of VALGRIND_TESTS under
#      valgrind memcheck (KOBS_VALGRIND=1: tests/valgrind.sh, suppressions in
#      tests/valgrind.supp); any error or leak fails the test that caused it;
#   4. a build without libsystemd, eBPF and libseccomp (--with-systemd=no --enable-bpf=no
#      --with-seccomp=no) in a scratch copy, and the tests that show it still serves (the systemd
#      and bpf ones skip; privileges.sh sees no filter, and the rest of the drop).
#   5. make distcheck: the release tarball is made, built out of tree with its sources read-only,
#      checked (the unit tests and SMOKE_TESTS of Makefile.am, each parser fuzzed for 1 s:
#      configure --enable-quick-check), installed, uninstalled and made again;
#   6. the Debian package is built, checked by lintian, installed on this machine, run as its user
#      kobsd, scraped and purged (tests/integration/package.sh). It runs last and alone, since it
#      installs into /usr; it skips when not root or when kobsd is installed already, and
#      --no-package leaves it out.
# The whole of it takes about 15 minutes on a 2-core machine; the fuzzers run FUZZ_SECONDS (3)
# per harness here (tests/fuzz/run.sh runs longer on its own).
# Prints how long each pass took, then one closing line "N passed, N failed, N skipped", and exits
# non-zero on any failure.
set -uo pipefail
package=yes
case "${1:-}" in
--no-package) package=no ;;
--package | "") ;; # --package: the default, still accepted
*)
	echo "usage: tests/run-all.sh [--no-package]" >&2
	exit 2
	;;
esac
cd "$(dirname "$0")/.."
top=$(pwd)
# KOBS_JOBS=N runs N tests at once instead of one per core: more than the cores is a way to look
# for flaky tests under more load than CI's.
jobs=${KOBS_JOBS:-$(nproc 2>/dev/null || echo 2)}
passed=0 failed=0 skipped=0

tally() { # tally DIR: add up the automake test-suite.log counts
	local log=$1/test-suite.log n
	[ -f "$log" ] || return 0
	n=$(sed -n 's/^# PASS: *//p' "$log"); passed=$((passed + ${n:-0}))
	n=$(sed -n 's/^# FAIL: *//p' "$log"); failed=$((failed + ${n:-0}))
	n=$(sed -n 's/^# ERROR: *//p' "$log"); failed=$((failed + ${n:-0}))
	n=$(sed -n 's/^# XPASS: *//p' "$log"); failed=$((failed + ${n:-0}))
	n=$(sed -n 's/^# SKIP: *//p' "$log"); skipped=$((skipped + ${n:-0}))
}

run_suite() { # run_suite DIR CONFIGURE-FLAGS...   (SUITE_TESTS="a b" runs only those tests)
	local dir=$1
	shift
	(
		cd "$dir" || exit 1
		[ -x configure ] || ./autogen.sh || exit 1
		[ -f Makefile ] || ./configure "$@" || exit 1
		make -j"$jobs" || exit 1
		if [ -n "${SUITE_TESTS:-}" ]; then
			make -j"$jobs" check TESTS="$SUITE_TESTS"
		else
			make -j"$jobs" check
		fi
	)
	local status=$?
	if [ $status -ne 0 ] && [ -f "$dir/test-suite.log" ]; then
		echo "==== failures in $dir/test-suite.log ===="
		cat "$dir/test-suite.log"
	fi
	tally "$dir"
	return $status
}

# Pass 2: the integration tests run again with the sanitizers (with the unit tests).
SANITIZER_TESTS="cli http exposition protobuf concurrency abuse malformed procfs processes
	processes_nobody processes_reload bpf task_iter events event_stream systemd_notify
	systemd_socket journal web_config web_reload privileges exporter_flags collect textfile
	bpf_not_permitted kernel_group filesystem_stale"
# Pass 3: the integration tests whose daemon runs under valgrind (with the unit tests). Valgrind
# makes the daemon 20 to 50 times slower: these cover each part of it once without waiting long.
VALGRIND_TESTS="cli http exposition protobuf malformed processes processes_reload web_config
	textfile collect journal bpf task_iter events"
export FUZZ_SECONDS=${FUZZ_SECONDS:-3}

unit_tests() { sed -n '/^UNIT_TESTS =/,/^$/p' "$top/Makefile.am" | grep -o 'tests/unit/[a-z_0-9]*'; }
integration() { # integration NAME...: their paths
	local t
	for t in "$@"; do
		[ -f "$top/tests/integration/$t.sh" ] || {
			echo "tests/run-all.sh: no tests/integration/$t.sh" >&2
			return 1
		}
		echo "tests/integration/$t.sh"
	done
}
# shellcheck disable=SC2086 # word splitting of the lists is meant
sanitizer_tests=$(unit_tests && integration $SANITIZER_TESTS) || exit 2
sanitizer_tests=$(echo $sanitizer_tests)
# shellcheck disable=SC2086
valgrind_tests=$(unit_tests && integration $VALGRIND_TESTS) || exit 2
valgrind_tests=$(echo $valgrind_tests)

status=0
timings=""
timed() { # timed NAME COMMAND...: run it, and note how long it took
	local name=$1 start=$SECONDS rc=0
	shift
	"$@" || rc=$?
	timings="$timings$name: $((SECONDS - start)) s; "
	return $rc
}

echo "==== development build: -Werror, all tests ===="
timed "development" run_suite "$top" --enable-werror || status=1

echo "==== sanitizer build: ASAN + UBSAN, the unit tests and SANITIZER_TESTS ===="
asan=$(mktemp -d "${TMPDIR:-/tmp}/kobsd-asan.XXXXXX")
cp -a "$top/." "$asan/"
(cd "$asan" && { [ ! -f Makefile ] || make -s distclean >/dev/null 2>&1; })
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=23
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export LSAN_OPTIONS="suppressions=$top/tests/lsan.supp:print_suppressions=0"
SUITE_TESTS="$sanitizer_tests" timed "sanitizers" run_suite "$asan" --enable-sanitizers \
	--enable-werror || status=1
rm -rf "$asan"
unset ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS

echo "==== valgrind memcheck: the development build, the unit tests and VALGRIND_TESTS ===="
export KOBS_VALGRIND=1
SUITE_TESTS="$valgrind_tests" timed "valgrind" run_suite "$top" --enable-werror || status=1
unset KOBS_VALGRIND

echo "==== without libsystemd, eBPF and libseccomp: the daemon builds and serves, the systemd and bpf tests skip ===="
nosd=$(mktemp -d "${TMPDIR:-/tmp}/kobsd-nosystemd.XXXXXX")
cp -a "$top/." "$nosd/"
(cd "$nosd" && { [ ! -f Makefile ] || make -s distclean >/dev/null 2>&1; })
SUITE_TESTS="tests/integration/cli.sh tests/integration/http.sh tests/integration/exposition.sh
	tests/integration/web_config.sh tests/integration/systemd_notify.sh
	tests/integration/processes.sh tests/integration/bpf.sh tests/integration/privileges.sh" \
	timed "without libsystemd, eBPF and libseccomp" run_suite "$nosd" --with-systemd=no --enable-bpf=no \
	--with-seccomp=no --enable-werror || status=1
rm -rf "$nosd"

echo "==== make distcheck: the release tarball builds, passes its quick check and installs ===="
distcheck() {
	local log=$top/distcheck.log status=0 n failed_before=$failed
	make -C "$top" -j"$jobs" distcheck >"$log" 2>&1 || status=$?
	# distcheck removes its build directory, test-suite.log with it: count from its output.
	n=$(sed -n 's/^# PASS: *//p' "$log"); passed=$((passed + ${n:-0}))
	n=$(sed -n 's/^# \(FAIL\|ERROR\|XPASS\): *//p' "$log" | awk '{ s += $1 } END { print s + 0 }')
	failed=$((failed + n))
	n=$(sed -n 's/^# SKIP: *//p' "$log"); skipped=$((skipped + ${n:-0}))
	rm -f "$top"/kobsd-*.tar.gz
	if [ $status -eq 0 ]; then
		rm -f "$log"
		return 0
	fi
	echo "==== make distcheck failed; the end of $log ===="
	tail -n 150 "$log"
	# A failed check leaves distcheck's build directory in place, with the tests' logs.
	cat "$top"/kobsd-*/_build/sub/test-suite.log 2>/dev/null
	# A failure outside the tests (making the tarball, building, installing) counts as one.
	[ $failed -gt $failed_before ] || failed=$((failed + 1))
	return $status
}
timed "distcheck" distcheck || status=1

if [ $package = yes ]; then
	echo "==== the Debian package: built, checked by lintian, installed, run as kobsd, purged ===="
	SUITE_TESTS="tests/integration/package.sh" \
		timed "package" run_suite "$top" --enable-werror || status=1
fi

echo "${timings%; }"

echo "$passed passed, $failed failed, $skipped skipped"
[ $status -eq 0 ] && [ $failed -eq 0 ]
