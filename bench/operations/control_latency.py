#!/usr/bin/env python3
"""Round-trip time of prerolld's control socket: N `stats` requests on fresh
connections (as prerollctl makes them), one every INTERVAL seconds; prints
p50 / p99 / max in milliseconds as one JSON line.

    control_latency.py CONTROL_SOCKET [N=200] [INTERVAL=0.02]
"""
import json
import socket
import sys
import time


def ask(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    start = time.perf_counter()
    s.connect(path)
    s.sendall(b'{"cmd":"stats"}\n')
    buf = b""
    while not buf.endswith(b"\n"):
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
    elapsed = time.perf_counter() - start
    s.close()
    if not json.loads(buf).get("ok"):
        raise SystemExit("bad reply: %r" % buf[:200])
    return elapsed * 1e3


def main():
    path = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    interval = float(sys.argv[3]) if len(sys.argv) > 3 else 0.02
    samples = []
    for _ in range(n):
        samples.append(ask(path))
        time.sleep(interval)
    samples.sort()
    pick = lambda q: samples[min(len(samples) - 1, int(q * (len(samples) - 1) + 0.5))]
    print(json.dumps({"n": n, "p50_ms": round(pick(0.5), 3), "p99_ms": round(pick(0.99), 3),
                      "max_ms": round(samples[-1], 3)}))


if __name__ == "__main__":
    main()
