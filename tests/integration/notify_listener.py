"""Stand in for the service manager's end of sd_notify: bind a datagram socket at argv[1] and
append every message to argv[2], one line each ("|" between the message's own lines), flushed at
once so a test can poll the file. Stops by itself after argv[3] seconds (default 120)."""
import os
import socket
import sys
import time

path, out = sys.argv[1], sys.argv[2]
limit = float(sys.argv[3]) if len(sys.argv) > 3 else 120.0
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind(path)
# Anyone may write to it, as to systemd's own sockets: a daemon started as root sends as the user
# it switched to.
os.chmod(path, 0o666)
sock.settimeout(0.5)
deadline = time.monotonic() + limit
with open(out, "a", buffering=1) as f:
    f.write("LISTENING\n")
    while time.monotonic() < deadline:
        try:
            data = sock.recv(65536)
        except socket.timeout:
            continue
        f.write(data.decode("utf-8", "replace").strip().replace("\n", "|") + "\n")
os.unlink(path)
