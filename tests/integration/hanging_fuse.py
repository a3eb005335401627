"""A FUSE filesystem whose statfs hangs: the stand-in for a dead NFS server in
tests/integration/filesystem_stale.sh. It speaks the kernel's FUSE protocol on /dev/fuse itself
(no libfuse, no fusermount: root mounts it with mount(2)), answers INIT and GETATTR of its empty
root directory, and holds every STATFS unanswered while "hanging". SIGUSR1 answers the held ones
and stops hanging; SIGUSR2 starts hanging again. It writes "mounted" to stdout once the mount is
in place, and exits when the mount goes away or on SIGTERM (closing /dev/fuse aborts the
connection, which fails any call still waiting with ENOTCONN).

    hanging_fuse.py MOUNTPOINT
"""
import ctypes
import os
import signal
import struct
import sys

FUSE_GETATTR, FUSE_STATFS, FUSE_INIT, FUSE_DESTROY, FUSE_INTERRUPT = 3, 17, 26, 38, 36
ENOSYS, ENOENT = 38, 2
IN_HEADER = struct.Struct("<IIQQIIIHH")  # len opcode unique nodeid uid gid pid extlen padding
OUT_HEADER = struct.Struct("<IiQ")  # len error unique
MS_NOSUID, MS_NODEV = 2, 4

mountpoint = sys.argv[1]
fd = os.open("/dev/fuse", os.O_RDWR)
libc = ctypes.CDLL(None, use_errno=True)
opts = f"fd={fd},rootmode=40755,user_id=0,group_id=0,allow_other".encode()
if libc.mount(b"kobstest", mountpoint.encode(), b"fuse.kobstest", MS_NOSUID | MS_NODEV, opts) != 0:
    err = ctypes.get_errno()
    sys.exit(f"mount: {os.strerror(err)}")

hanging = True
held = []


def reply(unique, payload=b"", error=0):
    try:
        os.write(fd, OUT_HEADER.pack(OUT_HEADER.size + len(payload), -error, unique) + payload)
    except OSError:
        pass  # the request was interrupted, or the connection is gone


def statfs_reply(unique):
    # fuse_kstatfs: blocks bfree bavail files ffree (u64), bsize namelen frsize padding (u32),
    # spare[6] (u32). 1000 blocks of 4 KiB, 400 free, 300 available, 100 inodes, 50 free.
    reply(unique, struct.pack("<QQQQQIIII6I", 1000, 400, 300, 100, 50, 4096, 255, 4096, 0,
                              *[0] * 6))


def release(*_):
    global hanging
    hanging = False
    while held:
        statfs_reply(held.pop())


def hang(*_):
    global hanging
    hanging = True


signal.signal(signal.SIGUSR1, release)
signal.signal(signal.SIGUSR2, hang)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))


def attr():
    # fuse_attr_out: attr_valid (u64), attr_valid_nsec, dummy (u32), then fuse_attr: ino size
    # blocks atime mtime ctime (u64), atimensec mtimensec ctimensec mode nlink uid gid rdev
    # blksize flags (u32).
    return struct.pack("<QII", 1, 0, 0) + struct.pack(
        "<QQQQQQIIIIIIIIII", 1, 0, 0, 0, 0, 0, 0, 0, 0, 0o40755, 2, 0, 0, 0, 4096, 0)


print("mounted", flush=True)
while True:
    try:
        request = os.read(fd, 1 << 20)
    except OSError:
        break  # ENODEV: unmounted
    if not request:
        break
    _, opcode, unique, _, _, _, _, _, _ = IN_HEADER.unpack_from(request)
    body = request[IN_HEADER.size:]
    if opcode == FUSE_INIT:
        major, minor, readahead, _ = struct.unpack_from("<IIII", body)
        # fuse_init_out: major minor max_readahead flags (u32), max_background
        # congestion_threshold (u16), max_write time_gran (u32), max_pages map_alignment (u16),
        # flags2 max_stack_depth (u32), unused[6].
        reply(unique, struct.pack("<IIIIHHIIHHII6I", 7, min(minor, 31), readahead, 0, 16, 12,
                                  65536, 1, 0, 0, 0, 0, *[0] * 6))
    elif opcode == FUSE_STATFS:
        if hanging:
            held.append(unique)
        else:
            statfs_reply(unique)
    elif opcode == FUSE_GETATTR:
        reply(unique, attr())
    elif opcode in (FUSE_INTERRUPT, FUSE_DESTROY):
        pass  # no reply to either
    else:
        reply(unique, error=ENOSYS)
