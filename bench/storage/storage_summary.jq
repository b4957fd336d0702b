# Markdown table from one bench_storage JSON output (--benchmark_out): the
# MEDIAN aggregates of its repetitions. Used by run_storage_bench.sh.
def r(n): if . == null then null else (. * pow(10; n) | round) / pow(10; n) end;
def fmt(n): if . == null then "–" else (r(n) | tostring) end;

[.benchmarks[] | select(.run_type == "aggregate" and .aggregate_name == "median")] as $med
| (first($med[].repetitions) // 0) as $reps
| def m(level; fsync): first($med[] | select(.run_name == "BM_store_window/zstd:\(level)/fsync:\(fsync)/real_time")) // null;
  def name(level): if level == 0 then "none" else "zstd level \(level)" end;
  def policy(f): ["window", "interval", "never"][f];
  (m(0; 2).bytes_per_second // null) as $base
| [
  "Medians of \($reps) repetitions; one window = 64 KiB of log-like events. MB/s of events before compression (wall time); file MB/s = bytes reaching the file; CPU = CPU time per window.",
  "",
  "| compression | fsync | events MB/s | windows/s | file MB/s | file / events | CPU µs per window | vs none+never |",
  "|---|---|---:|---:|---:|---:|---:|---:|",
  ( [0, 1, 3][] as $l | [0, 1, 2][] as $f | m($l; $f) as $x
    | "| \(name($l)) | \(policy($f)) | \(($x.bytes_per_second // null) | if . == null then null else . / 1e6 end | fmt(1))"
      + " | \($x.items_per_second // null | fmt(0)) | \($x.file_MBps // null | fmt(1))"
      + " | \($x.ratio // null | fmt(3)) | \($x.cpu_time // null | fmt(0))"
      + " | \(if $base == null or $x == null then null else $x.bytes_per_second / $base end | fmt(2))x |" )
] | .[]
