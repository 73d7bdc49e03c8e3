#!/usr/bin/python3
"""systemd_notify.py SERVER_BIN PORT DIR -- plays systemd's side of the
notify protocol: binds a datagram socket, starts the server with
NOTIFY_SOCKET pointing at it and --supervised systemd, waits for READY=1,
sends SIGTERM, waits for STOPPING=1 and the exit. Prints one line per
step ("ready", "stopping", "exit 0") or "error: ..." and exits non-zero
on any failure. Every wait has a deadline."""
import os
import signal
import socket
import subprocess
import sys


def main():
    server, port, workdir = sys.argv[1], sys.argv[2], sys.argv[3]
    path = os.path.join(workdir, "notify.sock")
    if os.path.exists(path):
        os.unlink(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(10)
    env = dict(os.environ, NOTIFY_SOCKET=path)
    log = open(os.path.join(workdir, "server.log"), "wb")
    proc = subprocess.Popen([server, "--port", port, "--supervised", "systemd",
                             "--save", "", "--appendonly", "no", "--dir", workdir],
                            env=env, stdout=log, stderr=log)
    try:
        msg = sock.recv(4096).decode()
        if "READY=1" not in msg.split("\n"):
            print("error: first notification was %r" % msg)
            return 1
        print("ready")
        proc.send_signal(signal.SIGTERM)
        msg = sock.recv(4096).decode()
        if "STOPPING=1" not in msg.split("\n"):
            print("error: second notification was %r" % msg)
            return 1
        print("stopping")
        print("exit %d" % proc.wait(timeout=10))
        return 0
    except (socket.timeout, subprocess.TimeoutExpired) as e:
        print("error: %s" % e)
        return 1
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


if __name__ == "__main__":
    sys.exit(main())
