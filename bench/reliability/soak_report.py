#!/usr/bin/env python3
"""The soak's figures and checks, from what run_soak.sh collected in WORK:
samples.jsonl (soak_sample.py), client.N.out (load_client's JSON line),
final_stats.json (prerollctl --json stats after every client detached),
setup.json, daemon_exit, and the ATF files in WORK/out, which it verifies
(`preroll-atf verify`) and reads the marked events of (`preroll-atf events
--marked --json`). Writes WORK/summary.json and WORK/summary.md and prints
both; exit status 1 if a check failed.

    soak_report.py WORK PREROLL_ATF

Checks: every file verifies; every mark a client emitted is on disk exactly
once or was counted by that client as overwritten (load_client.cpp: each
thread knows which of its events the library overwrote); no mark on disk
that no client emitted; the loss causes that have no reason to occur here
(nested, no lane, disabled, truncated, quota, write errors, corrupt rings,
faulty clients) are zero; the daemon's counters agree with the files and
the clients; prerolld exited 0; every control request was answered.
"""
import glob
import json
import os
import subprocess
import sys


def pct(sorted_values, q):
    if not sorted_values:
        return 0.0
    return sorted_values[min(len(sorted_values) - 1, int(q * (len(sorted_values) - 1) + 0.5))]


def main():
    work, atf = sys.argv[1], sys.argv[2]
    setup = json.load(open(os.path.join(work, "setup.json")))
    samples = [json.loads(l) for l in open(os.path.join(work, "samples.jsonl")) if l.strip()]
    stats = json.load(open(os.path.join(work, "final_stats.json")))
    daemon_exit = int(open(os.path.join(work, "daemon_exit")).read().strip() or -1)
    reports = []
    for f in sorted(glob.glob(os.path.join(work, "client.*.out"))):
        lines = [l for l in open(f).read().splitlines() if l.strip()]
        reports.append(json.loads(lines[-1]) if lines else None)
    N = setup["mark_every"]
    soak_s = setup["seconds"]

    # The files: verified, and their marked events.
    files = sorted(glob.glob(os.path.join(work, "out", "*.atf")))
    bad_files, on_disk, marked_events, file_bytes = [], {}, 0, 0
    for f in files:
        file_bytes += os.path.getsize(f)
        v = subprocess.run([atf, "verify", f], capture_output=True, text=True)
        if v.returncode != 0:
            bad_files.append("%s: %s" % (os.path.basename(f), (v.stdout + v.stderr).strip()[:200]))
        ev = subprocess.run([atf, "events", f, "--marked", "--json"], capture_output=True, text=True)
        for line in ev.stdout.splitlines():
            marked_events += 1
            m = json.loads(line)["message"]
            on_disk[m] = on_disk.get(m, 0) + 1

    # The accounting, mark by mark.
    c = dict(events=0, marks=0, overwritten=0, written=0, swaps_without_spare=0, nested=0, no_lane=0, disabled=0,
             truncated=0)
    m = dict(persisted=0, lost_counted=0, persisted_then_overwritten=0, uncounted=0, duplicates=0)
    problems, emitted = [], set()
    for r in reports:
        if r is None:
            problems.append("a client printed no report")
            continue
        for k, src in (("events", "events"), ("marks", "marks"), ("overwritten", "overwritten"),
                       ("written", "events_written"), ("swaps_without_spare", "swaps_without_spare"),
                       ("nested", "dropped_nested"), ("no_lane", "dropped_no_lane"),
                       ("disabled", "dropped_disabled"), ("truncated", "truncated")):
            c[k] += r[src]
        if not r["attributed"] or sum(t["overwritten"] for t in r["threads"]) != r["overwritten"]:
            problems.append("pid %d: overwritten events not all attributed" % r["pid"])
        for t in r["threads"]:
            if t["overwritten"] != t["lane_overwritten"] or t["marks"] != t["events"] // N:
                problems.append("pid %d tid %d: attribution or mark count wrong" % (r["pid"], t["tid"]))
            lost = set(t["marks_overwritten"])
            for k in range(1, t["marks"] + 1):
                seq = k * N - 1
                mid = "mark %d/%d/%d" % (r["pid"], t["tid"], seq)
                emitted.add(mid)
                n = on_disk.get(mid, 0)
                if n > 1:
                    m["duplicates"] += 1
                if n >= 1:
                    m["persisted"] += 1
                    if seq in lost:
                        m["persisted_then_overwritten"] += 1
                elif seq in lost:
                    m["lost_counted"] += 1
                else:
                    m["uncounted"] += 1
                    if m["uncounted"] <= 5:
                        problems.append("mark lost without being counted: " + mid)
    unknown = sum(n for mid, n in on_disk.items() if mid not in emitted)

    # Samples: per minute, and overall.
    load = [s for s in samples if "rss_kib" in s and s["t"] <= soak_s + 1]
    ctl = sorted(s["ctl_ms"] for s in samples if "ctl_ms" in s)
    ctl_failed = [s for s in samples if "ctl_error" in s]
    half = [s for s in load if s["t"] <= soak_s / 2]
    second = [s for s in load if s["t"] > soak_s / 2]
    rss_half = half[-1]["rss_kib"] if half else 0
    anon_half = half[-1]["anon_kib"] if half else 0
    minutes = []
    for i in range(int((soak_s + 59) // 60)):
        seg = [s for s in load if 60 * i <= s["t"] < 60 * (i + 1) + 0.5 and "windows_seen" in s]
        if len(seg) < 2:
            continue
        a, b = seg[0], seg[-1]
        dt = b["t"] - a["t"]
        d = lambda k: (b[k] - a[k]) / dt
        lost_a = a["events_lost"].get("overwritten", 0)
        lost_b = b["events_lost"].get("overwritten", 0)
        cap = b["events_captured"] - a["events_captured"]
        minutes.append({
            "minute": i + 1, "events_per_s": round(d("events_captured")),
            "overwritten_percent": round(100.0 * (lost_b - lost_a) / cap, 1) if cap else 0.0,
            "windows_seen_per_s": round(d("windows_seen")), "windows_persisted_per_s": round(d("windows_persisted"), 1),
            "cpu_percent_avg": round(sum(s["cpu_percent"] for s in seg) / len(seg), 1),
            "rss_kib_max": max(s["rss_kib"] for s in seg), "anon_kib_max": max(s["anon_kib"] for s in seg),
            "ctl_ms_max": round(max(s["ctl_ms"] for s in seg), 1),
            "atf_bytes": b["atf_bytes"], "atf_files": b["atf_files"]})

    lost = stats.get("events_lost", {})
    summary = {
        "setup": setup,
        "clients": {"events": c["events"], "events_per_second": round(c["events"] / soak_s),
                    "events_overwritten": c["overwritten"],
                    "overwritten_percent": round(100.0 * c["overwritten"] / c["events"], 2) if c["events"] else 0,
                    "swaps_without_spare": c["swaps_without_spare"],
                    "dropped": {"nested": c["nested"], "no_lane": c["no_lane"], "disabled": c["disabled"]},
                    "truncated": c["truncated"]},
        "marks": dict(emitted=c["marks"], unknown_on_disk=unknown, **m),
        "daemon": {k: stats.get(k) for k in (
            "windows_seen", "windows_persisted", "windows_discarded", "windows_failed", "windows_dropped_quota",
            "write_errors", "rings_corrupt", "clients_faulty", "protocol_errors", "events_seen", "events_marked",
            "events_persisted", "decision_latency_p50_us", "decision_latency_p99_us", "windows_persisted_by_reason",
            "events_lost", "files_created", "files_rotated", "files_deleted", "disk_usage_bytes", "disk_quota_bytes",
            "file_bytes_written", "compression_ratio", "storage_ratio")},
        "daemon_exit": daemon_exit,
        "cpu_percent": {"avg": round(sum(s["cpu_percent"] for s in load) / max(len(load), 1), 1),
                        "max": max((s["cpu_percent"] for s in load), default=0)},
        "rss_kib": {"start": load[0]["rss_kib"] if load else 0, "max": max((s["rss_kib"] for s in load), default=0),
                    "end": load[-1]["rss_kib"] if load else 0,
                    "max_anon": max((s["anon_kib"] for s in load), default=0),
                    "max_shmem": max((s["shmem_kib"] for s in load), default=0),
                    "at_half": rss_half, "max_second_half": max((s["rss_kib"] for s in second), default=0),
                    "anon_at_half": anon_half, "anon_max_second_half": max((s["anon_kib"] for s in second), default=0)},
        "control": {"requests": len(ctl), "failed": len(ctl_failed), "p50_ms": round(pct(ctl, 0.5), 2),
                    "p99_ms": round(pct(ctl, 0.99), 2), "max_ms": round(ctl[-1], 2) if ctl else 0,
                    "over_2s": sum(1 for x in ctl if x > 2000)},
        "files": {"count": len(files), "bytes": file_bytes, "verify_failed": len(bad_files),
                  "marked_events": marked_events},
        "per_minute": minutes,
    }

    # Checks.
    def check(ok, what):
        if not ok:
            problems.append(what)
    check(not bad_files, "files that do not verify: %s" % bad_files[:5])
    check(m["uncounted"] == 0, "%d marks lost without being counted" % m["uncounted"])
    check(m["duplicates"] == 0 and unknown == 0, "duplicate or unknown marks on disk")
    check(m["persisted"] + m["lost_counted"] == c["marks"], "marks persisted + counted != emitted")
    check(c["nested"] == c["no_lane"] == c["disabled"] == c["truncated"] == 0, "a loss cause that has no reason here")
    check(c["written"] == c["events"], "clients: events_written != events emitted")
    for k in ("windows_failed", "windows_dropped_quota", "write_errors", "rings_corrupt", "clients_faulty",
              "protocol_errors"):
        check(stats.get(k, 0) == 0, "daemon %s = %s" % (k, stats.get(k)))
    check(stats.get("events_captured") == c["written"], "daemon events_captured != clients' events_written")
    check(lost.get("overwritten") == c["overwritten"], "daemon events_lost.overwritten != clients' sum")
    check(stats.get("events_marked") == marked_events == m["persisted"],
          "daemon events_marked %s, marked events in files %d, marks on disk %d"
          % (stats.get("events_marked"), marked_events, m["persisted"]))
    # The quota deleting whole files would take marks with them: the run
    # must fit in the default quota for the accounting to be complete.
    check(stats.get("files_deleted", 0) == 0, "the quota deleted %s files: marks in them are gone"
          % stats.get("files_deleted"))
    check(daemon_exit == 0, "prerolld exit status %d" % daemon_exit)
    check(not ctl_failed, "%d control requests failed" % len(ctl_failed))
    summary["problems"] = problems
    summary["result"] = "pass" if not problems else "FAIL"

    with open(os.path.join(work, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    md = []
    s = summary
    md.append("| | |")
    md.append("|---|---:|")
    rows = [
        ("clients x threads, duration", "%d x %d, %d s" % (setup["clients"], setup["threads"], soak_s)),
        ("events emitted (per s)", "%d (%d)" % (c["events"], s["clients"]["events_per_second"])),
        ("events overwritten by the clients", "%d (%.2f %%)" % (c["overwritten"], s["clients"]["overwritten_percent"])),
        ("other losses (nested, no lane, disabled; quota, write errors)",
         "%d, %d, %d; %s, %s" % (c["nested"], c["no_lane"], c["disabled"], stats.get("windows_dropped_quota"),
                                 stats.get("write_errors"))),
        ("marks emitted", c["marks"]),
        ("marks on disk (exactly once)", m["persisted"]),
        ("marks overwritten in the client (counted)", m["lost_counted"]),
        ("marks lost without being counted", m["uncounted"]),
        ("windows seen / persisted / discarded", "%s / %s / %s" % (stats.get("windows_seen"),
                                                                   stats.get("windows_persisted"),
                                                                   stats.get("windows_discarded"))),
        ("decision latency p50 / p99 (µs)", "%s / %s" % (stats.get("decision_latency_p50_us"),
                                                          stats.get("decision_latency_p99_us"))),
        ("daemon CPU avg / max (% of one core)", "%s / %s" % (s["cpu_percent"]["avg"], s["cpu_percent"]["max"])),
        ("daemon RSS before the clients / first sample / max / last sample (KiB)", "%d / %d / %d / %d" % (
            setup.get("daemon_rss_before_kib", 0), s["rss_kib"]["start"], s["rss_kib"]["max"], s["rss_kib"]["end"])),
        ("of which max anonymous / shared (KiB)", "%d / %d" % (s["rss_kib"]["max_anon"], s["rss_kib"]["max_shmem"])),
        ("RSS at half time / max of the second half (KiB)", "%d / %d" % (s["rss_kib"]["at_half"],
                                                                         s["rss_kib"]["max_second_half"])),
        ("control `stats` p50 / p99 / max (ms), failed", "%.1f / %.1f / %.1f, %d" % (
            s["control"]["p50_ms"], s["control"]["p99_ms"], s["control"]["max_ms"], s["control"]["failed"])),
        ("ATF files, bytes (quota)", "%d, %d (%s)" % (len(files), file_bytes, stats.get("disk_quota_bytes"))),
        ("files deleted by the quota", stats.get("files_deleted")),
        ("files that fail `preroll-atf verify`", len(bad_files)),
        ("prerolld exit status", daemon_exit),
    ]
    for k, v in rows:
        md.append("| %s | %s |" % (k, v))
    md.append("")
    md.append("| minute | events/s | overwritten % | windows seen/s | persisted/s | daemon CPU % | RSS max KiB | "
              "ctl max ms | ATF MB |")
    md.append("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in minutes:
        md.append("| %d | %d | %.1f | %d | %.1f | %.1f | %d | %.1f | %.1f |" % (
            r["minute"], r["events_per_s"], r["overwritten_percent"], r["windows_seen_per_s"],
            r["windows_persisted_per_s"], r["cpu_percent_avg"], r["rss_kib_max"], r["ctl_ms_max"],
            r["atf_bytes"] / 1e6))
    md.append("")
    md.append("result: " + summary["result"] + ("" if not problems else " — " + "; ".join(problems)))
    with open(os.path.join(work, "summary.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    print(json.dumps({k: v for k, v in summary.items() if k != "per_minute"}))
    print()
    print("\n".join(md))
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
