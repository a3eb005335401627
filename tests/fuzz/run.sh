#!/bin/bash
# Build the libFuzzer harnesses in tests/fuzz/ with Debian's clang (-fsanitize=fuzzer,address,
# undefined) and run each for a bounded time on a scratch copy of its seed corpus
# (tests/fuzz/corpus/NAME/; nothing is written back to the tree).
#
#   tests/fuzz/run.sh                      every harness, FUZZ_SECONDS each
#   FUZZ_ONLY="negotiate listen" FUZZ_SECONDS=600 tests/fuzz/run.sh      a longer local run
#
# Every parser of outside input in src/ has a harness here. A new parser comes with
# tests/fuzz/fuzz_NAME.c, seeds from real input in tests/fuzz/corpus/NAME/ and a line in the table
# below; tests/fuzz/README.md says more.
#
# Environment: FUZZ_SECONDS per harness (default 10); FUZZ_ONLY, a list of harness names;
# FUZZ_KEEP=1 keeps the scratch directory (it is always kept after a finding); KOBS_BUILDDIR, the
# build directory whose src/syscall_names.h (made by `make`) the config harness includes: the
# source tree by default, and what `make check` passes in an out-of-tree build (make distcheck).
# Exit status: 0 when no harness found anything; 1 when one crashed, leaked, timed out, ran out
# of memory or broke a property (its report and reproducer are printed); 77 (automake's
# "skipped") when clang or libFuzzer's runtime is missing; 2 on a usage error.
set -uo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
builddir=${KOBS_BUILDDIR:-$top}
seconds=${FUZZ_SECONDS:-10}
case "$seconds" in '' | *[!0-9]* | 0)
	echo "run.sh: FUZZ_SECONDS must be a positive whole number of seconds, not '$seconds'" >&2
	exit 2
	;;
esac

# Each harness, then the sources under src/ and the libraries it is linked with.
harnesses=(
	"proc_stat    procfs_parse.c"
	"meminfo      procfs_parse.c"
	"vmstat       procfs_parse.c"
	"loadavg      procfs_parse.c"
	"pressure     procfs_parse.c"
	"softirqs     procfs_parse.c"
	"diskstats    host_parse.c"
	"netdev       host_parse.c"
	"snmp         host_parse.c"
	"sockstat     host_parse.c"
	"mountinfo    host_parse.c"
	"pid_files    procfs_pid_parse.c"
	"task_records task_records.c xalloc.c"
	"config       config_file.c config_yaml.c regular_file.c groups_config.c name_template.c utf8.c buf.c xalloc.c -lyaml -lpcre2-8"
	"name_template name_template.c buf.c xalloc.c"
	"web_config   web_config.c config_yaml.c regular_file.c xalloc.c -lyaml -lcrypt"
	"negotiate    negotiate.c"
	"listen       listen.c"
	"escape_label expo.c expo_proto.c buf.c xalloc.c -lm"
	"expo_write   expo.c expo_proto.c buf.c xalloc.c -lm"
	"textfile     textfile_parse.c expo.c expo_proto.c utf8.c buf.c xalloc.c -lm"
)
declare -A deps=()
order=()
for h in "${harnesses[@]}"; do
	read -r name rest <<<"$h"
	deps[$name]=$rest
	order+=("$name")
done
if [ -n "${FUZZ_ONLY:-}" ]; then
	read -r -a order <<<"$FUZZ_ONLY"
	for name in "${order[@]}"; do
		[ -n "${deps[$name]+set}" ] || {
			echo "run.sh: unknown harness '$name' (known: ${!deps[*]})" >&2
			exit 2
		}
	done
fi

# Debian's clang: its libclang-rt-NN-dev holds the libFuzzer runtime matching the compiler.
clang=""
for c in /usr/bin/clang /usr/bin/clang-[1-9][0-9]; do
	if [ -x "$c" ]; then
		clang=$c
		break
	fi
done
if [ -z "$clang" ]; then
	echo "SKIP: Debian's clang is not installed (apt-get install clang libclang-rt-14-dev)"
	exit 77
fi
# src/groups_config.c includes this header, which make generates in the build directory.
if [ ! -f "$builddir/src/syscall_names.h" ]; then
	echo "run.sh: $builddir/src/syscall_names.h is missing: run make first, or set KOBS_BUILDDIR" \
		"to the build directory of an out-of-tree build" >&2
	exit 2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/kobs-fuzz.XXXXXX")
keep=${FUZZ_KEEP:-0}
cleanup() {
	if [ "$keep" = 1 ]; then
		echo "scratch directory kept: $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT

cflags=(-g -O1 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -I"$top/src" -I"$builddir/src")

# A trivial harness must build and run, or libFuzzer's runtime is missing.
printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
	'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);' \
	'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }' \
	>"$work/probe.c"
if ! "$clang" "${cflags[@]}" "$work/probe.c" -o "$work/probe" >"$work/probe.log" 2>&1 ||
	! "$work/probe" -runs=1 >>"$work/probe.log" 2>&1; then
	echo "SKIP: $clang cannot build or run a libFuzzer harness (apt-get install libclang-rt-14-dev):"
	sed 's/^/    /' "$work/probe.log" | head -n 20
	exit 77
fi

# The sanitizers' settings are ours, whatever the caller's environment says (tests/run-all.sh
# exports a custom exit code and LeakSanitizer suppressions meant for the daemon).
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:allocator_may_return_null=0:symbolize=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=99
export LSAN_OPTIONS=""

status=0
start=$SECONDS
echo "building ${#order[@]} harnesses with $("$clang" --version | head -n 1)"
mkdir -p "$work/obj" "$work/bin"
for name in "${order[@]}"; do
	objs=() libs=()
	for d in ${deps[$name]}; do
		case "$d" in
		-l*) libs+=("$d") ;;
		*)
			obj=$work/obj/${d%.c}.o
			if [ ! -f "$obj" ] && ! "$clang" "${cflags[@]}" -c "$top/src/$d" -o "$obj" \
				>>"$work/build-$name.log" 2>&1; then
				rm -f "$obj"
			fi
			objs+=("$obj")
			;;
		esac
	done
	if ! "$clang" "${cflags[@]}" "$top/tests/fuzz/fuzz_$name.c" "${objs[@]}" "${libs[@]}" \
		-o "$work/bin/fuzz_$name" >>"$work/build-$name.log" 2>&1; then
		echo "FAIL $name: does not build"
		sed 's/^/    /' "$work/build-$name.log"
		status=1
	fi
done
echo "built in $((SECONDS - start))s; fuzzing each for ${seconds}s"

show_input() { # show_input FILE: its size and first 256 bytes, as hex and as base64
	echo "    $(wc -c <"$1") bytes; the first 256:"
	head -c 256 "$1" | od -A x -t x1z -v | sed 's/^/      /'
	echo "    base64: $(head -c 256 "$1" | base64 -w 0)"
}

for name in "${order[@]}"; do
	[ -x "$work/bin/fuzz_$name" ] || continue
	corpus=$work/corpus/$name
	artifacts=$work/artifacts/$name
	mkdir -p "$corpus" "$artifacts"
	if [ -d "$top/tests/fuzz/corpus/$name" ]; then
		cp -R "$top/tests/fuzz/corpus/$name/." "$corpus/"
	fi
	log=$work/$name.log
	# libFuzzer stops by itself after -max_total_time; -timeout bounds one input, and the
	# outer timeout only guards against a hang outside any input.
	rc=0
	timeout -k 10 $((seconds + 60)) "$work/bin/fuzz_$name" \
		-max_total_time="$seconds" -timeout=5 -rss_limit_mb=1024 -print_final_stats=1 \
		-error_exitcode=99 -timeout_exitcode=98 -artifact_prefix="$artifacts/" \
		"$corpus" >"$log" 2>&1 || rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	found=$(find "$artifacts" -type f | sort)
	if [ $rc -eq 0 ] && [ -z "$found" ]; then
		printf 'ok   %-13s %10s executions in %ss, corpus %s inputs\n' "$name" \
			"${execs:-?}" "$seconds" "$(find "$corpus" -type f | wc -l)"
		continue
	fi
	status=1
	keep=1
	case $rc in
	98) why="timed out on one input (-timeout=5)" ;;
	99) why="crashed, leaked, hit undefined behaviour or broke a property" ;;
	71) why="ran out of memory (-rss_limit_mb=1024)" ;;
	124 | 137) why="did not stop by itself (killed after $((seconds + 60))s)" ;;
	*) why="exited $rc" ;;
	esac
	echo "FAIL $name: $why"
	# From the first line of the sanitizer's, libFuzzer's or the harness's own report on.
	echo "  the fuzzer's report (all of it in $log):"
	awk '/ERROR: |runtime error: |property violated|out-of-memory|ALARM: / { p = 1 } p' "$log" |
		grep -v '^stat::' | head -n 80 | sed 's/^/    /'
	for f in $found; do
		echo "  reproducer: $f"
		echo "    rerun: $work/bin/fuzz_$name $f"
		show_input "$f"
	done
done

if [ $status -eq 0 ]; then
	echo "no findings: ${#order[@]} harnesses, ${seconds}s each, $((SECONDS - start))s in all"
else
	echo "FUZZING FOUND PROBLEMS; binaries and reproducers are in $work"
fi
exit $status
