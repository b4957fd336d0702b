# Markdown tables from one bench_marking JSON output (--benchmark_out), made
# of the MEDIAN aggregates of its repetitions (CPU time). Used by
# run_marking_bench.sh:   jq -r -f bench/marking/marking_summary.jq out.json

def r(n): if . == null then null else (. * pow(10; n) | round) / pow(10; n) end;
def fmt(n): if . == null then "–" else (r(n) | tostring) end;

[.benchmarks[] | select(.run_type == "aggregate" and .aggregate_name == "median")] as $med
| def m(name): first($med[] | select(.run_name == name)) // null;
  def ns(name): (m(name).per_event // null) | if . == null then null else . * 1e9 end;
  def ratio(a; b): if a == null or b == null or b == 0 then null else a / b end;
  (first($med[].repetitions) // 0) as $reps
| ns("plain") as $plain
| [
  "Medians of \($reps) repetitions; ns per event (CPU time). plain (every byte read once by memchr): \($plain | fmt(1)) ns.",
  "",
  "| patterns | chunk (match_events) | per_event | any (match_any) | pcre2_engine | one PCRE2-JIT alternation | alternation / chunk | chunk MB/s | hits |",
  "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
  ( ["literal", "mixed", "regex"][] as $k | ["cs", "ci"][] as $c | [1, 16, 64, 256][] as $n
    | "\($k)/\($c)/\($n)" as $cfg
    | "| \($k) \($c) \($n) | \(ns("chunk/" + $cfg) | fmt(1)) | \(ns("per_event/" + $cfg) | fmt(1))"
      + " | \(ns("any/" + $cfg) | fmt(1)) | \(ns("pcre2_engine/" + $cfg) | fmt(1))"
      + " | \(ns("alternation/" + $cfg) | fmt(1)) | \(ratio(ns("alternation/" + $cfg); ns("chunk/" + $cfg)) | fmt(1))x"
      + " | \((m("chunk/" + $cfg).bytes_per_second // null) | if . == null then null else . / 1e6 end | fmt(0))"
      + " | \(m("chunk/" + $cfg).hits // null | fmt(0)) |"),
  "",
  "chunk at 256 patterns / chunk at 16 (target <= 2):",
  ( ["literal", "mixed", "regex"][] as $k | ["cs", "ci"][] as $c
    | "- \($k) \($c): \(ratio(ns("chunk/\($k)/\($c)/256"); ns("chunk/\($k)/\($c)/16")) | fmt(2))" ),
  "",
  "build() cost, ms:",
  ( $med[] | select(.run_name | startswith("build/")) | "- \(.run_name | sub("/min_time:.*"; "")): \(.cpu_time | fmt(1))" )
  ]
| .[]
