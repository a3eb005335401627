#!/bin/bash
# kobsd's host collectors against Debian's node_exporter on the same host at the same moment:
# node_exporter runs on a free loopback port with only the matching collectors and the same
# device and mount filters, and host_compare.py checks every series (counters between
# node_exporter's readings just before and after kobsd's, gauges within 1%). kobsd serves as
# nobody, node_exporter as root: mounts only one of them can stat are left out of the comparison.
. "$(dirname "$0")/lib.sh"

NODE=$(command -v prometheus-node-exporter || command -v node_exporter || true)
[ -n "$NODE" ] || skip "prometheus-node-exporter is not installed (contrib/install-deps.sh)"

DISK_EXCLUDE='^(z?ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\d+n\d+p)\d+$'
port=$("$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$NODE" --web.listen-address="127.0.0.1:$port" --collector.disable-defaults \
	--collector.diskstats --collector.netdev --collector.netstat --collector.filesystem \
	--collector.sockstat --collector.uname --collector.time --collector.timex --collector.stat \
	--collector.diskstats.device-exclude="$DISK_EXCLUDE" --no-collector.netdev.netlink \
	--collector.netstat.fields='.*' >"$WORK/node.log" 2>&1 &
EXTRA_PIDS+=($!)
NODE_URL="http://127.0.0.1:$port/metrics"
for i in $(seq 1 100); do
	curl -sf -o /dev/null "$NODE_URL" && break
	sleep 0.1
done
curl -sf -o /dev/null "$NODE_URL" || fail "node_exporter did not answer: $(cat "$WORK/node.log")"

start_kobsd --no-collector.processes --collector.diskstats.device-exclude="$DISK_EXCLUDE"

# Gauges such as time-wait sockets move with everything else on a shared machine: a mismatch
# must show in three rounds out of three to count.
for round in 1 2 3; do
	curl -sf "$NODE_URL" -o "$WORK/node-before"
	fetch /metrics -o "$WORK/kobsd"
	curl -sf "$NODE_URL" -o "$WORK/node-after"
	if "$PYTHON" "$KOBS_SRCDIR/tests/integration/host_compare.py" "$WORK/node-before" \
		"$WORK/kobsd" "$WORK/node-after" >"$WORK/compare.out" 2>&1; then
		cat "$WORK/compare.out"
		pass "every host series equals node_exporter's (round $round)"
		exit 0
	fi
	sleep 1
done
cat "$WORK/compare.out" >&2
fail "kobsd and node_exporter disagree (above)"
