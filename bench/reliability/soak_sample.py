#!/usr/bin/env python3
"""Samples a running prerolld every INTERVAL seconds until STOP_FILE exists;
one JSON line per sample on stdout (run_soak.sh keeps them in samples.jsonl).

    soak_sample.py CONTROL_SOCKET DAEMON_PID OUTPUT_DIR STOP_FILE [INTERVAL=1]

Each sample: seconds since the start, the daemon's memory (/proc/PID/status:
VmRSS, RssAnon, RssShmem, KiB), its CPU since the last sample (/proc/PID/stat
utime+stime, percent of one core), the answer time of one `stats` request on
a fresh connection (as prerollctl makes them; "ctl_error" if none within
10 s), the daemon counters the report needs, and the *.atf files in
OUTPUT_DIR (count and bytes).
"""
import json
import os
import socket
import sys
import time

KEYS = ["clients_current", "clients_attached_total", "clients_detached_total", "windows_seen",
        "windows_persisted", "windows_discarded", "windows_failed", "windows_dropped_quota", "write_errors",
        "events_captured", "events_seen", "events_marked", "events_persisted", "swaps_without_spare",
        "disk_usage_bytes", "disk_quota_bytes", "files_open", "files_created", "files_rotated", "files_deleted",
        "file_bytes_written", "rings_corrupt", "clients_faulty"]


def ask(path, timeout=10.0):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    start = time.perf_counter()
    try:
        s.connect(path)
        s.sendall(b'{"cmd":"stats"}\n')
        buf = b""
        while not buf.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
        elapsed = (time.perf_counter() - start) * 1e3
        j = json.loads(buf)
        return elapsed, j, None if j.get("ok") else "bad reply"
    except (OSError, ValueError) as e:
        return (time.perf_counter() - start) * 1e3, None, str(e)
    finally:
        s.close()


def memory(pid):
    m = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "RssAnon", "RssShmem"):
                m[k] = int(v.split()[0])
    return m


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)


def atf_files(d):
    n = size = 0
    try:
        for e in os.scandir(d):
            if e.name.endswith(".atf"):
                n += 1
                size += e.stat().st_size
    except OSError:
        pass
    return n, size


def main():
    ctl, pid, out, stop = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    interval = float(sys.argv[5]) if len(sys.argv) > 5 else 1.0
    hz = os.sysconf("SC_CLK_TCK")
    t0 = time.monotonic()
    last_t, last_ticks = t0, cpu_ticks(pid)
    tick = t0
    while True:
        now = time.monotonic()
        try:
            mem, ticks = memory(pid), cpu_ticks(pid)
        except OSError:
            print(json.dumps({"t": round(now - t0, 3), "daemon_gone": True}), flush=True)
            return 1
        ms, stats, err = ask(ctl)
        s = {"t": round(now - t0, 3), "rss_kib": mem.get("VmRSS", 0), "anon_kib": mem.get("RssAnon", 0),
             "shmem_kib": mem.get("RssShmem", 0),
             "cpu_percent": round(100.0 * (ticks - last_ticks) / hz / max(now - last_t, 1e-3), 1),
             "ctl_ms": round(ms, 3)}
        last_t, last_ticks = now, ticks
        if err:
            s["ctl_error"] = err
        if stats:
            for k in KEYS:
                s[k] = stats.get(k, 0)
            s["events_lost"] = stats.get("events_lost", {})
        s["atf_files"], s["atf_bytes"] = atf_files(out)
        print(json.dumps(s), flush=True)
        if os.path.exists(stop):
            return 0
        tick += interval
        time.sleep(max(0.0, tick - time.monotonic()))


if __name__ == "__main__":
    sys.exit(main())
