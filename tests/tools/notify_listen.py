#!/usr/bin/env python3
"""notify_listen: stands in for systemd's notification socket in tests.

    notify_listen.py SOCKET OUTFILE [SECONDS]

Binds an AF_UNIX datagram socket at SOCKET (a path, or "@name" for the
abstract namespace, as $NOTIFY_SOCKET names it), then appends every
datagram it receives to OUTFILE as one line (the message's newlines become
spaces), prefixed with the time in milliseconds since the listener started.
Stops after STOPPING=1, or after SECONDS (default 60) without a datagram.
Prints "listening" on stdout once bound.
"""
import socket
import sys
import time


def main():
    if len(sys.argv) not in (3, 4):
        sys.stderr.write(__doc__)
        return 2
    name, out = sys.argv[1], sys.argv[2]
    idle = float(sys.argv[3]) if len(sys.argv) == 4 else 60.0
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind("\0" + name[1:] if name.startswith("@") else name)
    s.settimeout(idle)
    t0 = time.monotonic()
    print("listening", flush=True)
    with open(out, "a", encoding="utf-8") as f:
        while True:
            try:
                data = s.recv(4096)
            except socket.timeout:
                break
            ms = int((time.monotonic() - t0) * 1000)
            msg = data.decode("utf-8", "replace").replace("\n", " ")
            f.write("%d %s\n" % (ms, msg))
            f.flush()
            if data.startswith(b"STOPPING=1"):
                break
    return 0


if __name__ == "__main__":
    sys.exit(main())
