#!/usr/bin/python3
"""Judges what tests/integration/events.sh gathered of the slow events of a known load.

  events_check.py stream STREAM-FILE  KIND PID GROUP [FIELD=VALUE...]
      the Server-Sent Events stream is well formed (each frame an id and one JSON object of
      that id, ids growing) and has an event of KIND by PID in GROUP with those fields
  events_check.py log LOG-FILE KIND MESSAGE-ID PID GROUP [FIELD=VALUE...]
      the daemon's stderr (logfmt) or the journal socket's record (one entry a line, fields
      separated by |) has an entry of KIND with its MESSAGE_ID, naming PID and GROUP
  events_check.py exemplar OPENMETRICS-FILE FAMILY PID COMM LABEL=VALUE...
      a bucket of FAMILY's series with those labels carries an exemplar {pid,comm} whose value
      lies in the bucket (above the bound before it, at most its own)

Prints "ok - ..." or "FAIL: ..."; exits 1 on a failure."""
import json
import re
import sys

from verdicts import bad, ok
import verdicts


def fields(args):
    return dict(a.split("=", 1) for a in args)


def stream(path, kind, pid, group, want):
    text = open(path, encoding="utf-8").read()
    events, last = [], 0
    for frame in text.split("\n\n"):
        lines = [l for l in frame.split("\n") if l and not l.startswith(":")]
        if not lines or lines[0].startswith("retry:") or lines[0].startswith("event: gap"):
            continue
        if not (len(lines) == 2 and lines[0].startswith("id: ") and lines[1].startswith("data: ")):
            if frame is text.split("\n\n")[-1]:
                continue  # the frame being written when the file was read
            bad(f"a malformed frame: {frame!r}")
            return
        e = json.loads(lines[1][6:])
        if str(e["id"]) != lines[0][4:] or e["id"] <= last:
            bad(f"frame id {lines[0][4:]} against JSON id {e['id']} after {last}")
            return
        last = e["id"]
        events.append(e)
    ok(f"the stream is {len(events)} well-formed frames, ids growing")
    match = [e for e in events if e["kind"] == kind and str(e.get("pid")) == pid
             and e.get("group") == group]
    if not match:
        bad(f"no {kind} event of pid {pid} in group {group} among {len(events)}: "
            f"{json.dumps([e for e in events if e['kind'] == kind][:3])}")
        return
    e = match[-1]
    for k, v in want.items():
        if str(e.get(k)) != v:
            bad(f"the {kind} event of pid {pid} has {k}={e.get(k)!r}, want {v!r}: {e}")
            return
    if kind in ("runqueue", "offcpu", "block_io", "syscall") and not e["latency_seconds"] > 0:
        bad(f"the {kind} event has no latency: {e}")
        return
    ok(f"{len(match)} {kind} events of pid {pid} in group {group}, e.g. {json.dumps(e)}")


def log(path, kind, message_id, pid, group, want):
    journal = False
    entries = []
    for line in open(path, encoding="utf-8", errors="replace"):
        if "MESSAGE=" in line:  # the journal's: KEY=VALUE|KEY=VALUE
            journal = True
            entries.append(dict(f.split("=", 1) for f in line.rstrip("\n").split("|") if "=" in f))
        elif line.startswith("ts="):
            entries.append({m.group(1).upper(): m.group(2).replace('\\"', '"') for m in
                            re.finditer(r'(\w+)=("(?:[^"\\]|\\.)*"|\S+)', line)})
            for k, v in list(entries[-1].items()):
                if v.startswith('"'):
                    entries[-1][k] = v[1:-1]
    prefix = "KOBS_" if journal else ""
    found = [e for e in entries if e.get("MESSAGE_ID") == message_id
             and e.get(prefix + "PID") == pid and e.get(prefix + "GROUP") == group
             and e.get(prefix + "KIND") == kind]
    if not found:
        bad(f"no {kind} entry (MESSAGE_ID={message_id}) of pid {pid} in group {group} in "
            f"{path}: {[e for e in entries if e.get('MESSAGE_ID') == message_id][:2]}")
        return
    e = found[-1]
    for k, v in want.items():
        if e.get(prefix + k.upper()) != v:
            bad(f"the {kind} entry has {prefix + k.upper()}={e.get(prefix + k.upper())!r}, "
                f"want {v!r}: {e}")
            return
    if journal and e.get("PRIORITY") != "4":
        bad(f"the {kind} journal entry is not at warning priority: {e}")
        return
    ok(f"{len(found)} {kind} {'journal entries' if journal else 'log lines'} name pid {pid} "
       f"and group {group}: {e.get('MESSAGE', e.get('MSG'))}")


def exemplar(path, family, pid, comm, want):
    pattern = re.compile(r'^' + re.escape(family) + r'_bucket\{(.*)\} (\d+) # \{(.*)\} (\S+) (\S+)$')
    bounds, found = {}, None
    for line in open(path, encoding="utf-8"):
        m = re.match(re.escape(family) + r'_bucket\{(.*),le="([^"]+)"\} ', line)
        if not m:
            continue
        labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(1)))
        if any(labels.get(k) != v for k, v in want.items()):
            continue
        le = float(m.group(2))
        x = pattern.match(line.rstrip("\n"))
        if x:
            ex = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', x.group(3)))
            if ex == {"pid": pid, "comm": comm}:
                below = max([b for b in bounds if b < le], default=0.0)
                found = (le, below, float(x.group(4)), float(x.group(5)), line.strip())
        bounds[le] = True
    if not found:
        bad(f"no bucket of {family}{want} has the exemplar {{pid={pid},comm={comm}}}")
        return
    le, below, value, ts = found[:4]
    if not below < value <= le:
        bad(f"the exemplar's value {value} is not in its bucket ({below}, {le}]: {found[4]}")
        return
    ok(f"{family}{want}: the bucket le={le} carries pid {pid}'s event: {found[4]}")


def main():
    what = sys.argv[1]
    if what == "stream":
        stream(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], fields(sys.argv[6:]))
    elif what == "log":
        log(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6], fields(sys.argv[7:]))
    elif what == "exemplar":
        exemplar(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], fields(sys.argv[6:]))
    sys.exit(1 if verdicts.failures else 0)


if __name__ == "__main__":
    main()
