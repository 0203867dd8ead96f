#!/usr/bin/env python3
# Test double for ssh: runs the remote command here and passes on only the first
# 64 KiB of its answer, then hangs up, as a dropped connection would.
# `cut-ssh.py --limit 0 …` passes everything (a working "remote" on this machine).
import os, subprocess, sys, threading
limit = 65536
if len(sys.argv) > 2 and sys.argv[1] == "--limit":
    limit = int(sys.argv[2])
child = subprocess.Popen(["sh", "-c", sys.argv[-1]], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
def pump():
    try:
        while True:
            data = os.read(0, 65536)
            if not data:
                break
            child.stdin.write(data)
            child.stdin.flush()
    except OSError:
        pass
threading.Thread(target=pump, daemon=True).start()
left = limit if limit > 0 else float("inf")
while left > 0:
    data = os.read(child.stdout.fileno(), int(min(left, 16384)))
    if not data:
        break
    os.write(1, data)
    left -= len(data)
if limit > 0:
    os._exit(255)
os._exit(child.wait())
