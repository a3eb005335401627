"""The loads of tests/integration/task_iter.sh, each of which ends in a steady state (every thread
asleep for good), so that what the daemon serves can be compared to /proc to the byte:

  writer MIB DIR DONE   write MIB MiB to a file in DIR with fsync, remove it, touch DONE, sleep
  threads N SECONDS DONE
                        N threads, each named ti_worker (prctl), hash for SECONDS on every CPU
                        (hashlib gives up the GIL on large buffers, so they really run in
                        parallel and wait in the run queue), then all of them wait on an event
                        that never comes; touch DONE once they all wait.

Runs under /usr/bin/python3 through a symlink, whose name is the process's comm."""
import ctypes
import hashlib
import os
import sys
import threading
import time

PR_SET_NAME = 15


def name_thread(name):
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_NAME, name.encode(), 0, 0, 0)


def touch(path):
    with open(path, "w", encoding="ascii"):
        pass


def writer(mib, directory, done):
    path = os.path.join(directory, f"ti-write.{os.getpid()}")
    block = b"\xa5" * (1 << 20)
    with open(path, "wb") as f:
        for _ in range(mib):
            f.write(block)
        f.flush()
        os.fsync(f.fileno())
    os.unlink(path)
    touch(done)
    while True:
        time.sleep(3600)


def threads(n, seconds, done):
    stop = time.monotonic() + seconds
    never = threading.Event()
    parked = threading.Semaphore(0)
    data = b"\x5a" * (4 << 20)

    def work():
        name_thread("ti_worker")
        while time.monotonic() < stop:
            hashlib.sha256(data).digest()
        parked.release()
        never.wait()

    for _ in range(n):
        threading.Thread(target=work, daemon=True).start()
    for _ in range(n):
        parked.acquire()
    time.sleep(0.2)  # every worker is in never.wait() now
    touch(done)
    never.wait()


if __name__ == "__main__":
    kind = sys.argv[1]
    if kind == "writer":
        writer(int(sys.argv[2]), sys.argv[3], sys.argv[4])
    elif kind == "threads":
        threads(int(sys.argv[2]), float(sys.argv[3]), sys.argv[4])
    else:
        sys.exit(f"unknown load {kind}")
