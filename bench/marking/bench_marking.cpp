// The marking policy's matching strategies side by side, in one run.
//
//   plain        a pass touching every byte of every event (the floor)
//   chunk        PatternMatcher::match_events: one Hyperscan scan per chunk
//                of many events, hits mapped back by offset and confirmed
//   per_event    PatternMatcher::match_events_per_event: one Hyperscan scan
//                per field of each event
//   any          PatternMatcher::match_any on each event (early exit)
//   pcre2_engine PatternMatcher built without Hyperscan: every pattern's
//                PCRE2-JIT code (memmem for case-sensitive literals) on every field
//   alternation  one PCRE2-JIT regex (p1)|(p2)|... on each field (any-match)
//
// Events: ~8 MiB of generated log-like events (name + message averaging ~61
// bytes), ~0.1% carrying a trigger. Patterns: 0, 1, 16, 64, 256 of them,
// literal, regex or mixed (even ids literal, odd regex), case-sensitive or
// not. Counters: per_event (seconds), items (events) and bytes per second, hits per
// pass (equal across strategies of one configuration: same answers).
//
//   bench_marking --benchmark_min_time=0.2 --benchmark_repetitions=3
//                 --benchmark_report_aggregates_only=true
// bench/marking/run_marking_bench.sh does that and prints the table.
#include "pattern_matcher.hpp"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <benchmark/benchmark.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

using namespace preroll::daemon;

namespace {

constexpr std::size_t kTargetBytes = 8u << 20;
constexpr double kTriggerRate = 0.001;

constexpr std::array<const char*, 16> kNouns{"disk",  "socket", "lock",    "index", "queue",  "journal",
                                             "cache", "replica", "shard",  "session", "thread", "buffer",
                                             "token", "pool",   "stream", "heap"};
constexpr std::array<const char*, 16> kFaults{"timeout", "refused",   "panic",    "deadlock", "corrupt",  "overflow",
                                              "segfault", "denied",   "exhausted", "unreachable", "rollback",
                                              "stalled", "oom",       "abort",    "leak",     "mismatch"};

std::string noun(std::size_t i) { return kNouns[i % 16]; }
std::string fault(std::size_t i) { return kFaults[(i / 16 + i) % 16]; }

// Pattern i of a kind, and a text that it matches.
std::string literal_pattern(std::size_t i) { return noun(i) + " " + fault(i); }
std::string regex_pattern(std::size_t i) {
  switch (i % 4) {
    case 0: return noun(i) + "\\s+" + fault(i) + "(?:ed)? after \\d+ ?ms";
    case 1: return noun(i) + "\\[\\d+\\]: " + fault(i);
    case 2: return "(?:" + noun(i) + "|" + fault(i) + ")-" + fault(i) + " code=[0-9a-f]{4}";
    default: return fault(i) + " in " + noun(i) + " #\\d{2,}";
  }
}
std::string regex_trigger(std::size_t i) {
  switch (i % 4) {
    case 0: return noun(i) + "  " + fault(i) + " after 1500ms";
    case 1: return noun(i) + "[42]: " + fault(i);
    case 2: return noun(i) + "-" + fault(i) + " code=0f3a";
    default: return fault(i) + " in " + noun(i) + " #907";
  }
}

enum class Kind { literal, regex, mixed };
const char* kind_name(Kind k) { return k == Kind::literal ? "literal" : k == Kind::regex ? "regex" : "mixed"; }

std::vector<PatternSpec> make_specs(Kind kind, std::size_t n, bool ignore_case) {
  std::vector<PatternSpec> specs;
  for (std::size_t i = 0; i < n; ++i) {
    const bool regex = kind == Kind::regex || (kind == Kind::mixed && i % 2 == 1);
    specs.push_back({regex ? regex_pattern(i) : literal_pattern(i), regex ? PatternKind::regex : PatternKind::literal,
                     ignore_case, PatternField::any});
  }
  return specs;
}

struct Corpus {
  std::string arena;
  std::vector<EventText> events;
  std::size_t bytes = 0;  // name + message bytes
};

// Log-like events. Names 6-10 bytes, messages ~52 bytes on average.
Corpus make_corpus() {
  std::mt19937 rng(42);
  const auto pick = [&](std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng); };
  const auto num = [&](int lo, int hi) { return std::to_string(std::uniform_int_distribution<int>(lo, hi)(rng)); };
  static constexpr std::array<const char*, 8> kNames{"net.rx", "db.query", "http.req", "cache.get",
                                                     "sched",  "gc.pause", "rpc.call", "fs.write"};
  std::vector<std::pair<std::size_t, std::size_t>> spans;  // (offset, length) of name, then message
  Corpus c;
  c.arena.reserve(kTargetBytes + kTargetBytes / 4);
  while (c.bytes < kTargetBytes) {
    std::string msg;
    switch (pick(6)) {
      case 0: msg = "GET /api/v1/users/" + num(1, 99999) + " 200 " + num(1, 900) + "ms"; break;
      case 1: msg = "cache miss key=user:" + num(1, 999999) + " ttl=" + num(10, 3600); break;
      case 2: msg = "worker " + num(0, 63) + " processed batch " + num(1, 99999) + " in " + num(5, 9999) + "us"; break;
      case 3: msg = "conn " + num(1, 65535) + " from 10.0." + num(0, 255) + "." + num(0, 255) + " established"; break;
      case 4: msg = "flushed " + num(1, 4096) + " pages to segment " + num(1, 999) + " (lsn " + num(1, 1 << 30) + ")"; break;
      default: msg = "request id=" + num(100000, 999999) + " user=" + num(1, 9999) + " status=ok"; break;
    }
    if (std::bernoulli_distribution(kTriggerRate)(rng)) {
      // Half of the triggers aim at the first 16 patterns, so every pattern
      // count sees some hits.
      const std::size_t i = pick(2) == 0 ? pick(16) : pick(256);
      msg += pick(2) == 0 ? " " + literal_pattern(i) : " " + regex_trigger(i);
      if (pick(2) == 0) msg[msg.size() - 3] = static_cast<char>(msg[msg.size() - 3] ^ 0x20);  // case noise
    }
    msg = "tid=" + num(1000, 99999) + " " + msg + " #" + num(1, 999);
    const std::string name = kNames[pick(kNames.size())];
    spans.emplace_back(c.arena.size(), name.size());
    c.arena += name;
    spans.emplace_back(c.arena.size(), msg.size());
    c.arena += msg;
    c.bytes += name.size() + msg.size();
  }
  for (std::size_t i = 0; i < spans.size(); i += 2)
    c.events.push_back({std::string_view(c.arena).substr(spans[i].first, spans[i].second),
                        std::string_view(c.arena).substr(spans[i + 1].first, spans[i + 1].second)});
  return c;
}

const Corpus& corpus() {
  static const Corpus c = make_corpus();
  return c;
}

void set_counters(benchmark::State& state, std::size_t hits) {
  const Corpus& c = corpus();
  const auto events = static_cast<std::int64_t>(c.events.size());
  state.SetItemsProcessed(state.iterations() * events);
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(c.bytes));
  // Seconds per event, printed with an SI prefix ("39.4n" = 39.4 ns).
  state.counters["per_event"] = benchmark::Counter(
      static_cast<double>(events), benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
  state.counters["hits"] = static_cast<double>(hits);
}

// The floor: every byte of every field read once, by glibc's vectorised
// memchr for a byte the corpus never holds.
void bm_plain(benchmark::State& state) {
  const Corpus& c = corpus();
  for (auto _ : state) {
    std::size_t found = 0;
    for (const EventText& e : c.events) {
      found += std::memchr(e.name.data(), '\x01', e.name.size()) != nullptr ? 1 : 0;
      found += std::memchr(e.message.data(), '\x01', e.message.size()) != nullptr ? 1 : 0;
    }
    benchmark::DoNotOptimize(found);
  }
  set_counters(state, 0);
}

enum class Strategy { chunk, per_event, any, pcre2_engine };

void bm_matcher(benchmark::State& state, Strategy strategy, Kind kind, std::size_t n, bool ignore_case) {
  const Corpus& c = corpus();
  MatcherLimits limits;
  limits.use_hyperscan = strategy != Strategy::pcre2_engine;
  const auto m = PatternMatcher::build(make_specs(kind, n, ignore_case), limits);
  auto scratch = m->make_scratch();
  std::vector<PatternHit> hits;
  hits.reserve(4096);
  std::size_t found = 0;
  for (auto _ : state) {
    hits.clear();
    if (strategy == Strategy::per_event) {
      m->match_events_per_event(c.events, *scratch, hits);
      found = hits.size();
    } else if (strategy == Strategy::any) {
      found = 0;
      for (const EventText& e : c.events) found += m->match_any(e, *scratch) ? 1 : 0;
    } else {
      m->match_events(c.events, *scratch, hits);
      found = hits.size();
    }
    benchmark::DoNotOptimize(hits.data());
  }
  set_counters(state, found);
  state.SetLabel(std::string(m->engine()));
}

// One PCRE2-JIT regex: (?:p0)|(?:p1)|... , literals as \x{hh} escapes.
void bm_alternation(benchmark::State& state, Kind kind, std::size_t n, bool ignore_case) {
  const Corpus& c = corpus();
  std::string alt;
  for (const PatternSpec& s : make_specs(kind, n, ignore_case)) {
    if (!alt.empty()) alt += '|';
    alt += "(?:";
    if (s.kind == PatternKind::regex) {
      alt += s.text;
    } else {
      for (const char ch : s.text) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\x{%02x}", static_cast<unsigned char>(ch));
        alt += buf;
      }
    }
    alt += ')';
  }
  int err = 0;
  PCRE2_SIZE off = 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(alt.data()), alt.size(),
                                   ignore_case ? PCRE2_CASELESS : 0u, &err, &off, nullptr);
  if (code == nullptr || pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) != 0) {
    state.SkipWithError("alternation did not compile");
    return;
  }
  pcre2_match_data* md = pcre2_match_data_create(1, nullptr);
  const auto hit = [&](std::string_view t) {
    return !t.empty() &&
           pcre2_jit_match(code, reinterpret_cast<PCRE2_SPTR>(t.data()), t.size(), 0, 0, md, nullptr) >= 0;
  };
  std::size_t found = 0;
  for (auto _ : state) {
    found = 0;
    for (const EventText& e : c.events) found += (hit(e.name) || hit(e.message)) ? 1 : 0;
    benchmark::DoNotOptimize(found);
  }
  set_counters(state, found);
  pcre2_match_data_free(md);
  pcre2_code_free(code);
}

// What build() costs (off the matching path: at startup and reload).
void bm_build(benchmark::State& state, Kind kind, std::size_t n, bool hyperscan) {
  MatcherLimits limits;
  limits.use_hyperscan = hyperscan;
  const auto specs = make_specs(kind, n, false);
  for (auto _ : state) benchmark::DoNotOptimize(PatternMatcher::build(specs, limits));
  state.SetLabel(hyperscan ? "hyperscan" : "pcre2");
}

void register_all() {
  using benchmark::RegisterBenchmark;
  const std::array<std::size_t, 5> counts{0, 1, 16, 64, 256};
  RegisterBenchmark("plain", bm_plain)->Unit(benchmark::kMillisecond);
  for (const Kind kind : {Kind::literal, Kind::mixed, Kind::regex})
    for (const bool ic : {false, true})
      for (const std::size_t n : counts) {
        const std::string cfg = std::string(kind_name(kind)) + (ic ? "/ci/" : "/cs/") + std::to_string(n);
        const std::pair<const char*, Strategy> strategies[] = {{"chunk/", Strategy::chunk},
                                                               {"per_event/", Strategy::per_event},
                                                               {"any/", Strategy::any},
                                                               {"pcre2_engine/", Strategy::pcre2_engine}};
        for (const auto& [name, s] : strategies)
          RegisterBenchmark((name + cfg).c_str(), bm_matcher, s, kind, n, ic)->Unit(benchmark::kMillisecond);
        if (n > 0)
          RegisterBenchmark(("alternation/" + cfg).c_str(), bm_alternation, kind, n, ic)->Unit(benchmark::kMillisecond);
      }
  for (const Kind kind : {Kind::literal, Kind::mixed})
    for (const std::size_t n : {16u, 256u})
      for (const bool hs : {true, false})
        RegisterBenchmark(("build/" + std::string(kind_name(kind)) + "/" + std::to_string(n) + (hs ? "/hs" : "/pcre2")).c_str(),
                          bm_build, kind, n, hs)
            ->Unit(benchmark::kMillisecond)
            ->MinTime(0.2);
}

}  // namespace

int main(int argc, char** argv) {
  const Corpus& c = corpus();
  std::fprintf(stderr, "corpus: %zu events, %zu bytes, %.1f bytes/event\n", c.events.size(), c.bytes,
               static_cast<double>(c.bytes) / static_cast<double>(c.events.size()));
  register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
