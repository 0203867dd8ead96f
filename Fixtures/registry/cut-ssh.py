#!/usr/bin/env python3
# Test double for ssh: runs the remote command here and passes on only the first
# 64 KiB of its answer, then hangs up, as a dropped connection would.
import os, subprocess, sys, threading
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
left = 65536
while left > 0:
    data = os.read(child.stdout.fileno(), min(left, 16384))
    if not data:
        break
    os.write(1, data)
    left -= len(data)
os._exit(255)
