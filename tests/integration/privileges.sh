#!/bin/bash
# Least privilege in every mode. Once it serves, every thread of the daemon shows in
# /proc/PID/task/*/status: the unprivileged user and its group (no supplementary groups), no
# capability in any set (but the two --processes.read-other-users keeps), NoNewPrivs 1 and
# Seccomp 2 (a filter). Checked started as root without and with the bpf collector, with
# --processes.read-other-users, and as nobody with the ambient CAP_BPF and CAP_PERFMON that
# systemd/kobsd-bpf.conf grants. Also: a wrong --run-as is a usage error; a file the run-as
# user cannot read on SIGHUP is named in the error, with the user; --no-sandbox.seccomp.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || skip "needs root: the daemon switches users only when started as root"
id nobody >/dev/null 2>&1 && getent group nogroup >/dev/null ||
	skip "no user nobody or group nogroup"

# The user a root daemon serves as by default: kobsd when it exists, else nobody.
if id kobsd >/dev/null 2>&1; then USER_NAME=kobsd; else USER_NAME=nobody; fi
USER_UID=$(id -u "$USER_NAME")
USER_GID=$(id -g "$USER_NAME")
NONE=0000000000000000
# CAP_SYS_PTRACE (19) and CAP_DAC_READ_SEARCH (2)
READ_OTHERS=0000000000080004
# Seccomp in /proc/PID/status: 2 is a filter; a build without libseccomp has none.
if "$KOBSD" --version | matches '+seccomp'; then FILTER=2 BUILT=yes; else FILTER=0 BUILT=no; fi

# thread_problems UID GID CAPS BOUNDING SECCOMP: one line for each thread of the daemon whose
# status differs from that (CAPS for the effective and permitted sets; the inheritable and
# ambient sets must be empty; SECCOMP 2 for a filter, 0 for none); nothing when all agree. A
# thread that ends while it is read (a stat worker replaced, say) is left out.
thread_problems() {
	local status
	for status in /proc/"$KOBS_PID"/task/*/status; do
		awk -v uid="$1" -v gid="$2" -v caps="$3" -v bnd="$4" -v sec="$5" -v t="$status" '
		function bad(what) { sub("/status$", "", t); sub(".*/", "", t); print "thread " t ": " what }
		$1 == "Uid:" && ($2 != uid || $3 != uid || $4 != uid || $5 != uid) { bad($0) }
		$1 == "Gid:" && ($2 != gid || $3 != gid || $4 != gid || $5 != gid) { bad($0) }
		$1 == "Groups:" && NF > 1 { bad($0) }
		($1 == "CapEff:" || $1 == "CapPrm:") && $2 != caps { bad($0) }
		($1 == "CapInh:" || $1 == "CapAmb:") && $2 != "0000000000000000" { bad($0) }
		$1 == "CapBnd:" && $2 != bnd { bad($0) }
		$1 == "NoNewPrivs:" && $2 != 1 { bad($0) }
		$1 == "Seccomp:" && $2 != sec { bad($0) }' "$status" 2>/dev/null || [ ! -e "$status" ]
	done
}

# expect_threads WHAT UID GID CAPS BOUNDING SECCOMP: the daemon has started its threads (the
# collector's and libmicrohttpd's), and each is as thread_problems says.
expect_threads() {
	local what=$1 problems n
	shift
	n=$(ls "/proc/$KOBS_PID/task" | wc -l)
	[ "$n" -ge 3 ] || fail "$what: only $n threads; the collecting and HTTP threads are missing"
	problems=$(thread_problems "$@")
	[ -z "$problems" ] || fail "$what:"$'\n'"$problems"
	echo "# $(grep -E '^(Uid|Gid|CapEff|CapBnd|NoNewPrivs|Seccomp):' "/proc/$KOBS_PID/status" | tr '\n\t' '  ')"
}

# A process of root's that no unprivileged user may read the I/O of, in a group of its own.
mkdir -p "$WORK/bin"
ln -s "$(command -v sleep)" "$WORK/bin/kp_rootio"
"$WORK/bin/kp_rootio" "$(scaled 300)" &
EXTRA_PIDS+=($!)
cat >"$WORK/kobsd.yml" <<'EOF'
process_names:
  - name: "{{.Comm}}"
    comm: [kp_rootio]
EOF
chmod 0600 "$WORK/kobsd.yml" # and $WORK is 0700: root's alone

# rootio_unavailable FILE: kobs_group_unavailable_processes{group="kp_rootio",figure="io"}.
rootio_unavailable() {
	sed -n 's/^kobs_group_unavailable_processes{group="kp_rootio",figure="io"} //p' "$1"
}

# ---- a wrong --run-as: usage error, before anything is done ----
status=0
kobsd --no-collector.bpf --web.listen-address=127.0.0.1:0 --run-as=no-such-user-kobs \
	>"$WORK/out" 2>&1 || status=$?
[ $status = 64 ] || fail "--run-as=no-such-user-kobs: exit $status, not 64: $(cat "$WORK/out")"
grep -q 'no-such-user-kobs' "$WORK/out" || fail "the error does not name the user: $(cat "$WORK/out")"
status=0
kobsd --no-collector.bpf --web.listen-address=127.0.0.1:0 --run-as=root >"$WORK/out" 2>&1 ||
	status=$?
[ $status = 64 ] || fail "--run-as=root: exit $status, not 64: $(cat "$WORK/out")"
pass "an unknown --run-as user, or root, is a usage error (exit 64): $(head -n 1 "$WORK/out")"

# ---- root, without BPF ----
start_kobsd --config.file="$WORK/kobsd.yml"
fetch /metrics -o "$WORK/text"
expect_threads "as root without bpf" "$USER_UID" "$USER_GID" $NONE $NONE $FILTER
pass "as root without bpf, every thread runs as $USER_NAME with no capability, NoNewPrivs and a seccomp filter"

[ "$(rootio_unavailable "$WORK/text")" = 1 ] ||
	fail "root's kp_rootio I/O is not unavailable: $(grep kp_rootio "$WORK/text")"
pass "root's processes' I/O is unavailable to the daemon by default"

grep -q "^kobs_build_info{.*seccomp=\"$BUILT\"" "$WORK/text" ||
	fail "kobs_build_info does not say seccomp=\"$BUILT\" as --version does"
line=$(grep 'msg="running as ' "$WORK/kobsd.log" || true)
filter="seccomp filter on"
[ $BUILT = yes ] || filter="seccomp filter off (kobsd was built without libseccomp"
for want in "running as $USER_NAME (uid $USER_UID, gid $USER_GID)" "no capabilities" \
	"no_new_privs" "$filter"; do
	grep -qF "$want" <<<"$line" || fail "the start log line lacks '$want': ${line:-no such line}"
done
fetch / -o "$WORK/landing.html"
page=$(sed -n 's/.*<p id="privileges">\([^<]*\)<.*/\1/p' "$WORK/landing.html")
msg=${line#*msg=\"}
[ "$page" = "${msg%\"}" ] ||
	fail "the landing page does not show the privileges of the log line: ${page:-none}"
pass "the log and the landing page say: $page"

# SIGHUP: the configuration sits in a directory only root may enter; the error names the user.
kill -HUP "$KOBS_PID"
wait_grep 'reload failed' "$WORK/kobsd.log" || fail "no reload error after SIGHUP"
err=$(grep 'reload failed' "$WORK/kobsd.log")
for want in "$WORK/kobsd.yml" "Permission denied" "user $USER_NAME, uid $USER_UID"; do
	grep -qF "$want" <<<"$err" || fail "the reload error lacks '$want': $err"
done
chmod 0755 "$WORK"
chmod 0644 "$WORK/kobsd.yml"
kill -HUP "$KOBS_PID"
wait_grep 'reloaded the configuration' "$WORK/kobsd.log" ||
	fail "no reload once the file is readable: $(tail -n 3 "$WORK/kobsd.log")"
pass "a configuration the run-as user cannot read: the reload error names file and user; readable, it reloads"
[ "$(status_of /metrics)" = 200 ] || fail "not serving after the reloads"
stop_kobsd || fail "exit status"

# ---- --no-sandbox.seccomp ----
start_kobsd --no-sandbox.seccomp
fetch /metrics -o /dev/null
expect_threads "with --no-sandbox.seccomp" "$USER_UID" "$USER_GID" $NONE $NONE 0
fetch / | matches -F 'seccomp filter off (--no-sandbox.seccomp)' ||
	fail "the landing page does not say the filter is off"
pass "--no-sandbox.seccomp: no filter (Seccomp 0), and the landing page says so; the rest as ever"
stop_kobsd || fail "exit status"

# ---- --processes.read-other-users ----
start_kobsd --config.file="$WORK/kobsd.yml" --processes.read-other-users
fetch /metrics -o "$WORK/text"
expect_threads "with --processes.read-other-users" "$USER_UID" "$USER_GID" $READ_OTHERS \
	$READ_OTHERS $FILTER
[ "$(rootio_unavailable "$WORK/text")" = 0 ] &&
	grep -q '^kobs_group_io_bytes_total{group="kp_rootio"' "$WORK/text" ||
	fail "with --processes.read-other-users root's kp_rootio I/O is not served: $(grep kp_rootio "$WORK/text")"
pass "--processes.read-other-users keeps exactly CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH, and root's I/O is served"
stop_kobsd || fail "exit status"

# ---- root, with BPF ----
if "$KOBSD" --help | matches '^  bpf '; then
	KOBS_WITH_BPF=1 start_kobsd
	fetch /metrics -o "$WORK/text"
	fetch /metrics -o "$WORK/text"
	expect_threads "as root with bpf" "$USER_UID" "$USER_GID" $NONE $NONE $FILTER
	if grep -q '^kobs_bpf_program_attached{program="scheduler"} 1$' "$WORK/text"; then
		grep -q '^kobs_scrape_collector_success{collector="bpf"} 1$' "$WORK/text" ||
			fail "the bpf collector fails under the filter: $(grep 'collector="bpf"' "$WORK/text")"
		echo "# the bpf collector reads its maps as $USER_NAME under the filter"
	elif [ "${KOBS_VALGRIND:-0}" != 1 ]; then
		fail "as root the scheduler program is not attached: $(grep kobs_bpf_program_attached "$WORK/text")"
	fi
	pass "as root with bpf, every thread runs as $USER_NAME with no capability, NoNewPrivs and a seccomp filter"
	stop_kobsd || fail "exit status"
else
	echo "# kobsd was built without the bpf collector: not checked with it"
fi

# ---- root in a container: uid 0 with only the capabilities it adds (the Kubernetes DaemonSet)
# contrib/kubernetes/daemonset.yaml adds BPF, PERFMON, SETUID and SETGID to drop: [ALL]. There is
# no CAP_SETPCAP to empty the bounding set, so the four stay in it, and in no other set.
as_root_with() {
	KOBSD_RUN=(setpriv --inh-caps=-all --bounding-set="-all,$1" "${ROOT_RUN[@]}")
}
ROOT_RUN=("${KOBSD_RUN[@]}")
as_root_with +bpf,+perfmon,+setuid,+setgid
KOBS_WITH_BPF=1 start_kobsd
fetch /metrics -o /dev/null
# CAP_BPF (39), CAP_PERFMON (38), CAP_SETUID (7), CAP_SETGID (6)
expect_threads "as a container's root" "$USER_UID" "$USER_GID" $NONE 000000c0000000c0 $FILTER
pass "as a container's root with BPF, PERFMON, SETUID and SETGID: $USER_NAME, no capability left but the bounding set's"
stop_kobsd || fail "exit status"

# Without CAP_SETUID and CAP_SETGID uid 0 cannot be left: the daemon refuses to serve as root.
as_root_with +bpf,+perfmon
status=0
kobsd --no-collector.bpf --web.listen-address=127.0.0.1:0 >"$WORK/out" 2>&1 || status=$?
[ $status = 1 ] || fail "as root without CAP_SETUID: exit $status, not 1: $(cat "$WORK/out")"
grep -q 'refusing to serve.*CAP_SETUID' "$WORK/out" || fail "the error does not say why: $(cat "$WORK/out")"
pass "as root without CAP_SETUID, kobsd refuses to serve and says what to grant"
KOBSD_RUN=("${ROOT_RUN[@]}")

# ---- as kobsd.service starts it: an unprivileged user, no capability, under systemd's filter
# (which refuses seccomp() and capset(): UNIT_FILTER_EXEC makes them fail as systemd does) ----
: "${UNIT_FILTER_EXEC:=$(dirname "$KOBSD")/../tests/unit/unit_filter_exec}"
[ -x "$UNIT_FILTER_EXEC" ] || fail "no $UNIT_FILTER_EXEC (make check builds it)"
daemon_as_nobody --inh-caps=-all --bounding-set=-all
# setpriv (its four words and the two flags) first: it needs capset. Then the filter, then the
# daemon. nobody runs a copy, as it does the daemon's.
install -m 0755 "$UNIT_FILTER_EXEC" "$WORK/unit_filter_exec"
KOBSD_RUN=("${KOBSD_RUN[@]:0:6}" "$WORK/unit_filter_exec" "${KOBSD_RUN[@]:6}")
start_kobsd
fetch /metrics -o /dev/null
# Seccomp 2 whether or not kobsd adds a filter of its own: the unit's is one.
expect_threads "as nobody under the unit's filter" "$(id -u nobody)" \
	"$(getent group nogroup | cut -d: -f3)" $NONE $NONE 2
if [ $BUILT = yes ]; then
	filters=$(awk '$1 == "Seccomp_filters:" {print $2}' "/proc/$KOBS_PID/status")
	[ "$filters" = 2 ] || fail "under the unit's filter kobsd did not add its own: $filters filters"
fi
pass "as kobsd.service runs it (no capability; seccomp() and capset() refused): kobsd adds its filter"
stop_kobsd || fail "exit status"

# ---- as nobody with the drop-in's ambient CAP_BPF and CAP_PERFMON (kobsd-bpf.conf) ----
# Without CAP_SETPCAP the bounding set keeps the two; nothing else does. --run-as is ignored.
daemon_as_nobody --inh-caps=-all,+bpf,+perfmon --ambient-caps=+bpf,+perfmon \
	--bounding-set=-all,+bpf,+perfmon
KOBS_WITH_BPF=1 start_kobsd --run-as=daemon
fetch /metrics -o /dev/null
expect_threads "as nobody with the drop-in's capabilities" "$(id -u nobody)" \
	"$(getent group nogroup | cut -d: -f3)" $NONE 000000c000000000 $FILTER
grep -q -- '--run-as=daemon is ignored' "$WORK/kobsd.log" ||
	fail "no warning that --run-as is ignored when not started as root"
pass "as nobody with CAP_BPF+CAP_PERFMON: no capability left but the bounding set's two, NoNewPrivs, a filter"
stop_kobsd || fail "exit status"
