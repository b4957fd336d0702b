# Markdown summary of one bench_emit JSON output (--benchmark_out), made of
# the MEDIAN aggregates of its repetitions. Used by run_emit_bench.sh:
#   jq -r --arg run no-daemon -f bench/emit_summary.jq emit-no-daemon.json
#
# Columns: 1 thread real and CPU time per event; with 2 threads, cpu_time is
# each thread's CPU time per own event (the per-thread cost) and real_time is
# wall time per event of both threads together (Google Benchmark divides by
# the iterations of all threads).

def r(n): if . == null then null else (. * pow(10; n) | round) / pow(10; n) end;
def fmt(n): if . == null then "–" else (r(n) | tostring) end;
def ratio(a; b): if a == null or b == null or b == 0 then null else a / b end;

[.benchmarks[] | select(.run_type == "aggregate" and .aggregate_name == "median")] as $med
| [.benchmarks[] | select(.error_occurred == true) | "\(.run_name): \(.error_message)"] | unique as $errors
| def m(name): first($med[] | select(.run_name == name)) // null;
  def t1(b): m(b + "/threads:1").real_time;
  def c1(b): m(b + "/threads:1").cpu_time;
  def c2(b): m(b + "/threads:2").cpu_time;
  def w2(b): m(b + "/threads:2").real_time;
  m("BM_preroll_ring_swap_32/iterations:300000/manual_time") as $swap
| m("BM_doorbell_sendmsg/iterations:20000/manual_time") as $bell
| (first($med[].repetitions) // 0) as $reps
| [
  "### Run `\($run)`: medians of \($reps) repetitions, ns per event",
  "",
  "| benchmark | 1 thread (real) | 1 thread (cpu) | 2 threads: per thread (cpu) | 2 threads: wall per event | 2T per thread / 1T (cpu) |",
  "|---|---:|---:|---:|---:|---:|",
  ( ["BM_clock_gettime", "BM_rdtsc", "BM_ideal_append_rdtsc", "BM_ideal_append_clock", "BM_preroll_emit_32",
     "BM_lttng_tracepoint_32"][] as $b
    | select(m($b + "/threads:1") != null or m($b + "/threads:2") != null)
    | "| \($b | ltrimstr("BM_")) | \(t1($b) | fmt(1)) | \(c1($b) | fmt(1)) | \(c2($b) | fmt(1)) | \(w2($b) | fmt(1)) | \(ratio(c2($b); c1($b)) | fmt(2)) |" ),
  "",
  ( m("BM_preroll_emit_32/threads:1") as $e1 | m("BM_preroll_emit_32/threads:2") as $e2
    | "preroll counters during the emit runs (median): 1 thread: \($e1.ev_per_swap | fmt(0)) events per ring swap, \($e1.no_spare_pct | fmt(1)) % of swaps without a spare ring (ring overwritten in place), daemon connected: \($e1.daemon); 2 threads: \($e2.ev_per_swap | fmt(0)) events per swap, \($e2.no_spare_pct | fmt(1)) % without spare." ),
  "",
  "Ratios (medians of CPU time per event, which leaves out time the thread spent off its core; 1 thread unless said):",
  "",
  "| ratio | value |",
  "|---|---:|",
  "| preroll emit / ideal append (rdtsc) | \(ratio(c1("BM_preroll_emit_32"); c1("BM_ideal_append_rdtsc")) | fmt(2)) |",
  "| preroll emit / ideal append (clock_gettime) | \(ratio(c1("BM_preroll_emit_32"); c1("BM_ideal_append_clock")) | fmt(2)) |",
  "| preroll emit / LTTng tracepoint | \(ratio(c1("BM_preroll_emit_32"); c1("BM_lttng_tracepoint_32")) | fmt(3)) |",
  "| LTTng tracepoint / preroll emit | \(ratio(c1("BM_lttng_tracepoint_32"); c1("BM_preroll_emit_32")) | fmt(1)) |",
  "| preroll emit, 2 threads per thread / 1 thread (cpu) | \(ratio(c2("BM_preroll_emit_32"); c1("BM_preroll_emit_32")) | fmt(2)) |",
  "| LTTng, 2 threads per thread / 1 thread (cpu) | \(ratio(c2("BM_lttng_tracepoint_32"); c1("BM_lttng_tracepoint_32")) | fmt(2)) |",
  "",
  ( if $swap == null then "Ring swaps: not measured." else
      "Ring swaps (`BM_preroll_ring_swap_32`, medians; 1 thread, emits timed in chunks of 64): \($swap.real_time | fmt(1)) ns per event in all = \($swap.plain_ns | fmt(1)) ns for an emit that makes no room + **\($swap.overhead_per_event_ns | fmt(2)) ns amortised make_room work**. Per 1000 events: \($swap.handover_per_kev | fmt(3)) hand-overs to the daemon"
      + (if $swap.handover_per_kev >= 0.01 then " (+\($swap.handover_ns | fmt(0)) ns each, median \($swap.handover_p50_ns | fmt(0)) ns; \($swap.ctxsw_per_handover | fmt(2)) context switches per hand-over)" else "" end)
      + ", \($swap.wrap_per_kev | fmt(3)) wraps without a spare ring"
      + (if $swap.wrap_per_kev >= 0.01 then " (+\($swap.wrap_ns | fmt(0)) ns each)" else "" end)
      + ", \($swap.evict_per_kev | fmt(3)) chunks with evictions only"
      + (if $swap.evict_per_kev >= 0.01 then " (+\($swap.evict_ns | fmt(0)) ns each)" else "" end)
      + "; page faults per 1000 events: \($swap.faults_per_kev | fmt(3))."
    end ),
  ( if $bell == null then empty else
      "", "Doorbell alone (`BM_doorbell_sendmsg`, median): a non-blocking 8-byte sendmsg that wakes a reader asleep in poll() takes \($bell.real_time | fmt(0)) ns (the part of a hand-over that is the system call and the wake-up)." end ),
  ( if ($errors | length) > 0 then "", "Errors (runs not measured):", "", ($errors[] | "- " + .) else empty end )
] | .[]
