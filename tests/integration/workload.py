#!/usr/bin/python3
"""Processes with known truths, for the tests of the processes collector.

  workload.py [--roles ROLE,...] [--io-dir DIR] [--stop-file FILE] [--seconds S]

Starts one child process per role, each under its own command name (comm, set with
prctl(PR_SET_NAME)), waits until every child holds its truth, and prints one JSON line on stdout:

  {"ready": true, "procs": [{"role": ..., "pid": ..., "comm_hex": ..., truths...}, ...]}

Then it waits until FILE exists, S seconds have passed (600 by default), its parent has gone, or
it gets SIGTERM or SIGINT; then it kills and reaps every child and exits. Every child also dies with
it (PR_SET_PDEATHSIG), and gives up by itself after S seconds, so nothing is ever left behind.

Roles (and their comm):
  mem      kt_mem       200 MiB of anonymous memory, every page touched
  cpu      kt_cpu       a busy loop in user space
  fds      kt_fds       300 more open descriptors (/dev/null), soft RLIMIT_NOFILE 1024
  io       kt_io        64 MiB written to an unlinked file in --io-dir (default /var/tmp), fsync'd
  pp       kt_pp        two sleeping processes (for a per_process entry)
  quote    kt_q"uote    comm holding a double quote
  back     kt_b\\ack     comm holding a backslash
  newline  kt_n\\nl      comm holding a newline
  badutf8  kt_bad\\xff\\xfename   comm holding bytes that are never UTF-8
  argv     kt_argv      a command line holding a double quote, a backslash, a newline and
                        invalid UTF-8 (a separate program, exec'd)

Truths measured by each child once it is ready: vm_rss_kib, vm_hwm_kib, threads, minflt,
open_fds, nofile_soft, write_bytes, wchar, syscw (from its own /proc/self files).
"""
import argparse
import ctypes
import json
import mmap
import os
import resource
import select
import signal
import sys
import tempfile
import time

PR_SET_NAME = 15
PR_SET_PDEATHSIG = 1
MIB = 1 << 20

MEM_BYTES = 200 * MIB
FDS_EXTRA = 300
FDS_SOFT_LIMIT = 1024
IO_BYTES = 64 * MIB

COMMS = {
    "mem": b"kt_mem",
    "cpu": b"kt_cpu",
    "fds": b"kt_fds",
    "io": b"kt_io",
    "pp": b"kt_pp",
    "quote": b'kt_q"uote',
    "back": b"kt_b\\ack",
    "newline": b"kt_n\nl",
    "badutf8": b"kt_bad\xff\xfename",
    "argv": b"kt_argv",
}
# How many processes each role starts.
COUNTS = {"pp": 2}
# The command line of the argv role: a marker, then one argument of ASCII hostility (the
# config's cmdline regex captures it) and one of bytes that no UTF-8 decoder accepts.
ARGV_MARK = b"kt-argv-mark"
ARGV_TAG = b'tag"q\\b'
ARGV_BAD = b"\xff\xfe\nnl\"\\"
ALL_ROLES = list(COMMS)

libc = ctypes.CDLL(None, use_errno=True)


def set_comm(name):
    assert len(name) <= 15, name
    if libc.prctl(PR_SET_NAME, ctypes.c_char_p(name), 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NAME)")


def die_with_parent(parent):
    """SIGKILL when the parent goes; and if it has gone already, go now."""
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(1)


def status_kib(field):
    # Binary: the Name line holds the comm, which may be any bytes.
    with open("/proc/self/status", "rb") as f:
        for line in f:
            if line.startswith(field.encode() + b":"):
                return int(line.split()[1])
    return 0


def io_fields():
    out = {}
    try:
        with open("/proc/self/io") as f:
            for line in f:
                k, v = line.split(":")
                out[k] = int(v)
    except OSError:
        pass
    return out


def truths():
    """What this process is, as /proc tells it."""
    with open("/proc/self/stat", "rb") as f:
        stat = f.read()
    fields = stat[stat.rindex(b")") + 2:].split()
    fds = len(os.listdir("/proc/self/fd")) - 1  # less the one listdir used
    io = io_fields()
    return {
        "vm_rss_kib": status_kib("VmRSS"),
        "vm_hwm_kib": status_kib("VmHWM"),
        "threads": status_kib("Threads"),
        "minflt": int(fields[7]),
        "open_fds": fds,
        "nofile_soft": resource.getrlimit(resource.RLIMIT_NOFILE)[0],
        "write_bytes": io.get("write_bytes", -1),
        "wchar": io.get("wchar", -1),
        "syscw": io.get("syscw", -1),
    }


def hold(lifeline, deadline):
    """Sleep until the parent closes the lifeline (it died or is done) or the deadline."""
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return
        r, _, _ = select.select([lifeline], [], [], min(left, 1.0))
        if r:
            return


def role_mem(state):
    m = mmap.mmap(-1, MEM_BYTES, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    for off in range(0, MEM_BYTES, mmap.PAGESIZE):
        m[off] = 1
    state["keep"] = m


def role_fds(state):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard >= FDS_SOFT_LIMIT:
        resource.setrlimit(resource.RLIMIT_NOFILE, (FDS_SOFT_LIMIT, hard))
    state["keep"] = [os.open("/dev/null", os.O_RDONLY) for _ in range(FDS_EXTRA)]


def role_io(state, io_dir):
    fd, path = tempfile.mkstemp(prefix="kobs-io.", dir=io_dir)
    os.unlink(path)  # nothing is left behind, however this process ends
    chunk = b"\xa5" * MIB
    for _ in range(IO_BYTES // MIB):
        os.write(fd, chunk)
    os.fsync(fd)
    state["keep"] = fd


def burn(deadline, lifeline):
    x = 0
    while True:
        for i in range(200000):
            x = (x * 31 + i) & 0xFFFF
        if time.monotonic() >= deadline:
            return
        r, _, _ = select.select([lifeline], [], [], 0)
        if r:
            return


def child(role, args, parent, ready_w, lifeline, keep_fds):
    die_with_parent(parent)
    for fd in keep_fds:
        os.close(fd)
    deadline = time.monotonic() + args.seconds
    if role == "argv":
        # comm is set after the exec, ready is reported on the inherited pipe, and the
        # lifeline is watched as the other roles do.
        code = (
            "import ctypes,json,os,select,sys;"
            "ctypes.CDLL(None).prctl(15,ctypes.c_char_p(b'kt_argv'),0,0,0);"
            "w,l,s=int(sys.argv[1]),int(sys.argv[2]),float(sys.argv[3]);"
            "os.write(w,json.dumps({'role':'argv','pid':os.getpid()}).encode()+b'\\n');"
            "os.close(w);"
            "select.select([l],[],[],s)"
        )
        os.set_inheritable(ready_w, True)
        os.set_inheritable(lifeline, True)
        argv = [sys.executable.encode(), b"-c", code.encode(), str(ready_w).encode(),
                str(lifeline).encode(), str(args.seconds).encode(),
                ARGV_MARK, ARGV_TAG, ARGV_BAD]
        os.execv(sys.executable, argv)
    set_comm(COMMS[role])
    state = {}
    if role == "mem":
        role_mem(state)
    elif role == "fds":
        role_fds(state)
    elif role == "io":
        role_io(state, args.io_dir)
    info = {"role": role, "pid": os.getpid()}
    info.update(truths())
    info["open_fds"] -= 1  # less ready_w, closed below
    if role == "io":
        info["io_dir"] = args.io_dir
    os.write(ready_w, json.dumps(info).encode() + b"\n")
    os.close(ready_w)
    if role == "cpu":
        burn(deadline, lifeline)
    else:
        hold(lifeline, deadline)
    os._exit(0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--roles", default=",".join(ALL_ROLES))
    ap.add_argument("--io-dir", default="/var/tmp")
    ap.add_argument("--stop-file")
    ap.add_argument("--seconds", type=float, default=600)
    ap.add_argument("--ready-timeout", type=float, default=60)
    args = ap.parse_args()
    roles = [r for r in args.roles.split(",") if r]
    for r in roles:
        if r not in COMMS:
            sys.exit(f"workload.py: unknown role {r!r}")

    set_comm(b"kt_workload")
    parent = os.getppid()
    start = time.monotonic()
    ready_r, ready_w = os.pipe()
    lifeline_r, lifeline_w = os.pipe()
    kids = []

    def finish(code):
        for pid in kids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for pid in kids:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
        sys.exit(code)

    signal.signal(signal.SIGTERM, lambda *_: finish(0))
    signal.signal(signal.SIGINT, lambda *_: finish(0))

    for role in roles:
        for _ in range(COUNTS.get(role, 1)):
            pid = os.fork()
            if pid == 0:
                try:
                    child(role, args, os.getppid(), ready_w, lifeline_r,
                          [ready_r, lifeline_w])
                except BaseException as e:  # report, never fall back into the parent's code
                    print(f"workload.py: role {role}: {e!r}", file=sys.stderr)
                os._exit(1)
            kids.append(pid)
    os.close(ready_w)

    procs = []
    buf = b""
    limit = start + args.ready_timeout
    while len(procs) < len(kids):
        left = limit - time.monotonic()
        r, _, _ = select.select([ready_r], [], [], max(left, 0))
        if not r:
            print(f"workload.py: only {len(procs)} of {len(kids)} processes ready in "
                  f"{args.ready_timeout} s", file=sys.stderr)
            finish(1)
        data = os.read(ready_r, 65536)
        if not data:
            print(f"workload.py: a process died before it was ready ({len(procs)} of "
                  f"{len(kids)} ready)", file=sys.stderr)
            finish(1)
        buf += data
        *lines, buf = buf.split(b"\n")
        procs += [json.loads(line) for line in lines if line]
    for p in procs:
        p["comm_hex"] = COMMS[p["role"]].hex()
        if p["role"] == "argv":
            p["argv_hex"] = [a.hex() for a in (ARGV_MARK, ARGV_TAG, ARGV_BAD)]
    os.close(ready_r)
    print(json.dumps({"ready": True, "procs": procs}), flush=True)

    deadline = start + args.seconds
    while time.monotonic() < deadline:
        if args.stop_file and os.path.exists(args.stop_file):
            break
        if os.getppid() != parent:
            break
        for pid in kids:
            if os.waitpid(pid, os.WNOHANG)[0]:
                print(f"workload.py: process {pid} exited early", file=sys.stderr)
                kids.remove(pid)  # reaped already
                finish(1)
        time.sleep(0.2)
    finish(0)


if __name__ == "__main__":
    main()
