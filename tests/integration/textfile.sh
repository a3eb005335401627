#!/bin/bash
# The textfile collector: DIR/*.prom files are served (promtool and the OpenMetrics parser accept
# the result) with kobs_textfile_mtime_seconds{file}; a bad file is left out, logged once, and
# sets kobs_textfile_scrape_error, while the others are served; nothing a file can be (a FIFO, a
# directory, a huge file) blocks a scrape.
. "$(dirname "$0")/lib.sh"
dir="$WORK/textfiles"
mkdir "$dir"

cat >"$dir/backup.prom" <<'PROM'
# HELP backup_last_success_timestamp_seconds When the last backup succeeded.
# TYPE backup_last_success_timestamp_seconds gauge
backup_last_success_timestamp_seconds{job="db",path="C:\\backups\\\"db\"\nnightly"} 1.7e+09
# HELP backup_runs_total Backups run, by result.
# TYPE backup_runs_total counter
backup_runs_total{job="db",result="ok"} 42
backup_runs_total{job="db",result="failed"} 1
PROM
cat >"$dir/latency.prom" <<'PROM'
# HELP batch_duration_seconds How long batch jobs ran.
# TYPE batch_duration_seconds histogram
batch_duration_seconds_bucket{job="etl",le="1"} 2
batch_duration_seconds_bucket{job="etl",le="10"} 5
batch_duration_seconds_bucket{job="etl",le="+Inf"} 6
batch_duration_seconds_sum{job="etl"} 42.5
batch_duration_seconds_count{job="etl"} 6
# HELP batch_rows Rows per batch.
# TYPE batch_rows summary
batch_rows{quantile="0.5"} 100
batch_rows{quantile="0.99"} 2000
batch_rows_sum 123456
batch_rows_count 321
PROM
printf 'apt_upgrades_pending{origin="Debian"} 3\n' >"$dir/apt.prom"
# Bad ones, each for its own reason.
printf 'broken{ 1\n' >"$dir/syntax.prom"
printf 'stamped 1 1700000000000\n' >"$dir/timestamp.prom"
printf 'apt_upgrades_pending{origin="other"} 1\n' >"$dir/zz_duplicate.prom"
printf 'kobs_cpus 64\n' >"$dir/reserved.prom"
mkfifo "$dir/fifo.prom"
mkdir "$dir/directory.prom"
head -c $((1024 * 1024 + 1)) /dev/zero | tr '\0' '#' >"$dir/huge.prom"
# Not read at all: another suffix, a hidden file (a writer's temporary name).
printf 'other 1\n' >"$dir/notes.txt"
printf 'broken{\n' >"$dir/.backup.prom.tmp.prom"
# Started as root, the daemon serves as nobody: everything must be readable to it, but one file.
readable_by_daemon
if [ "$(id -u)" = 0 ]; then
	printf 'secret 1\n' >"$dir/private.prom"
	chmod 0600 "$dir/private.prom"
fi

start_kobsd --collector.textfile.directory="$dir/"
fetch /metrics -o "$WORK/text"
fetch /metrics -H "Accept: $ACCEPT_PROM_242" -o "$WORK/om"
fetch /metrics -o /dev/null

check_text "$WORK/text"
check_openmetrics "$WORK/om"
for line in 'backup_runs_total{job="db",result="ok"} 42' \
	'backup_last_success_timestamp_seconds{job="db",path="C:\\backups\\\"db\"\nnightly"} 1700000000' \
	'batch_duration_seconds_bucket{job="etl",le="10"} 5' 'batch_rows{quantile="0.99"} 2000' \
	'apt_upgrades_pending{origin="Debian"} 3' '# HELP apt_upgrades_pending Metric read from '"$dir"'/apt.prom.'; do
	grep -qxF "$line" "$WORK/text" || fail "not served: $line"
done
pass "the good files are served as they were written; promtool and the OpenMetrics parser accept them"

for f in apt backup latency; do
	want=$(stat -c %Y "$dir/$f.prom")
	got=$(sed -n "s|^kobs_textfile_mtime_seconds{file=\"$dir/$f.prom\"} \([0-9]*\).*|\1|p" "$WORK/text")
	[ "$got" = "$want" ] || fail "kobs_textfile_mtime_seconds of $f.prom is '$got', its mtime $want"
done
[ "$(grep -c '^kobs_textfile_mtime_seconds{' "$WORK/text")" = 3 ] ||
	fail "mtimes of other files than the three good ones: $(grep '^kobs_textfile_mtime_seconds{' "$WORK/text")"
grep -qx 'kobs_textfile_scrape_error 1' "$WORK/text" || fail "kobs_textfile_scrape_error is not 1"
! grep -q '^broken\|^stamped\|^other \|kobs_cpus 64\|origin="other"' "$WORK/text" || fail "a bad or foreign file is served"
pass "kobs_textfile_mtime_seconds has each file served, kobs_textfile_scrape_error is 1, the bad files are left out"

whys=()
[ "$(id -u)" != 0 ] || whys+=('private.prom: Permission denied (kobsd runs as user nobody')
for why in ${whys[@]+"${whys[@]}"} 'syntax.prom: line 1, column 9: expected a label name' 'timestamp.prom: line 1, column 11: text after the value: timestamps' \
	'zz_duplicate.prom: line 1: apt_upgrades_pending: apt_upgrades_pending is served from' \
	"reserved.prom: line 1: kobs_cpus: the names kobs_\\* and process_\\* are kobsd's own" \
	'fifo.prom: is a named pipe (FIFO), not a regular file' 'directory.prom: is a directory' \
	'huge.prom: is 1048577 bytes, larger than 1 MiB'; do
	n=$(grep -c "$why" "$WORK/kobsd.log" || true)
	[ "$n" = 1 ] || fail "the log has $n lines saying '$why' over three scrapes, want 1"
done
pass "each bad file is logged once, with what is wrong and where"

rm -f "$dir"/{syntax,timestamp,zz_duplicate,reserved,fifo,huge,private}.prom
rmdir "$dir/directory.prom"
fetch '/metrics?collect[]=textfile' -o "$WORK/clean"
grep -qx 'kobs_textfile_scrape_error 0' "$WORK/clean" || fail "kobs_textfile_scrape_error stays 1 without bad files"
! grep -q '^kobs_cpu_seconds_total' "$WORK/clean" || fail "collect[]=textfile serves the system collector"
grep -q '^batch_rows_count 321$' "$WORK/clean" || fail "collect[]=textfile leaves out the files' metrics"
stop_kobsd || fail "exit status"
pass "without bad files kobs_textfile_scrape_error is 0; collect[]=textfile serves the files"

# A directory that is not there at start: the daemon serves, reports the error, and reads the
# files once the directory appears.
start_kobsd --collector.textfile.directory="$WORK/later"
fetch /metrics -o "$WORK/missing"
grep -qx 'kobs_textfile_scrape_error 1' "$WORK/missing" || fail "a missing directory is not an error"
grep -qx 'kobs_scrape_collector_success{collector="textfile"} 1' "$WORK/missing" ||
	fail "a missing directory fails the collector"
mkdir "$WORK/later"
printf 'late_metric 1\n' >"$WORK/later/late.prom"
fetch /metrics -o "$WORK/appeared"
grep -qx 'late_metric 1' "$WORK/appeared" && grep -qx 'kobs_textfile_scrape_error 0' "$WORK/appeared" ||
	fail "files of a directory made after the start are not served"
stop_kobsd || fail "exit status"
pass "a directory made after the start is read from then on"
