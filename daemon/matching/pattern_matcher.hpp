// The matching engine of the marking policy: a set of trigger patterns
// (literal or PCRE2 regex, case-sensitive or not, on the event's name, its
// message, or either) compiled once, matched against many events.
//
// PCRE2 is the dialect users write and the exact matcher. Where Hyperscan is
// available (amd64), Hyperscan databases of all patterns are the fast path
// (prefilter mode for what Hyperscan cannot match exactly); every Hyperscan
// hit on a regex is confirmed with PCRE2 on the field it fell in, so PCRE2
// alone decides what matches. Elsewhere PCRE2-JIT alone. Strategy chosen by
// measurement: bench/marking/bench_marking.cpp (numbers in
// pattern_matcher.cpp, above match_events).
//
// Bytes are bytes: no UTF-8 assumption (PCRE2_UTF is never set and a
// pattern's own (*UTF)/(*UCP) is refused, so it falls back to a literal),
// caseless matching folds ASCII letters only, NUL and 0xFF are ordinary
// bytes, empty text is fine. No match call throws on any input.
//
// Thread safety: a PatternMatcher is immutable after build(); any number of
// threads may match with it at once, each with its own Scratch. A Scratch
// belongs to the matcher that made it (a reload makes new scratches) and to
// one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace preroll::daemon {

enum class PatternKind : std::uint8_t { literal, regex };
enum class PatternField : std::uint8_t { any, name, message };

struct PatternSpec {
  std::string text;
  PatternKind kind = PatternKind::literal;
  bool ignore_case = false;
  PatternField field = PatternField::any;
};

// How a compiled pattern is matched (for `prerollctl policy` and stats).
enum class MatchPath : std::uint8_t {
  pcre2,                // PCRE2-JIT on every event (no Hyperscan, or Hyperscan cannot take it)
  hyperscan_exact,      // Hyperscan finds it; regex hits confirmed with PCRE2
  hyperscan_prefilter,  // Hyperscan finds a superset; every hit confirmed with PCRE2
};

// What build() made of a spec.
struct CompiledPattern {
  PatternSpec spec;                   // kind is literal after a fallback
  bool fell_back_to_literal = false;  // an invalid regex now matched as literal text
  std::string compile_error;          // PCRE2's message when it fell back
  std::size_t error_offset = 0;       // PCRE2's offset into the pattern
  MatchPath path = MatchPath::pcre2;
};

// Build options. The name stays for the policy code written against it.
struct MatcherLimits {
  std::size_t max_patterns = 4096;
  std::size_t max_pattern_length = 4096;  // at most UINT32_MAX / 4 whatever is asked
  bool strict = false;  // an invalid regex is an error instead of a literal fallback
  // Use Hyperscan when the build has it and the CPU supports it. Off: PCRE2-JIT
  // alone (the benchmark and the tests compare both in one process).
  bool use_hyperscan = true;
  // PCRE2 match limit per (pattern, field) attempt: bounds catastrophic
  // backtracking of an operator's regex on hostile text. An attempt that hits
  // it (or the JIT stack limit) counts as no match and as a match error.
  std::uint32_t pcre2_match_limit = 1'000'000;
};

// One event as the matcher sees it.
struct EventText {
  std::string_view name;
  std::string_view message;
};

// A pattern that matched an event, by index into the events given.
struct PatternHit {
  std::uint32_t event_index = 0;
  std::uint32_t pattern_id = 0;
  friend bool operator==(const PatternHit&, const PatternHit&) = default;
};

namespace matching_detail {
struct MatcherState;
struct ScratchState;
}  // namespace matching_detail

class PatternMatcher final {
 public:
  // Per-thread working memory (Hyperscan scratch, PCRE2 match data and JIT
  // stack, the window chunk buffer). Made by make_scratch(); reused across
  // calls, so a warmed-up scratch allocates nothing per event.
  class Scratch {
   public:
    ~Scratch();
    Scratch(const Scratch&) = delete;
    Scratch& operator=(const Scratch&) = delete;
    // Attempts that ended in an engine error rather than match/no match
    // (PCRE2 match or JIT stack limit, Hyperscan error, a scratch from another
    // matcher). Each counted as no match; a Hyperscan error is redone with
    // PCRE2, so it loses nothing.
    [[nodiscard]] std::uint64_t match_errors() const noexcept;

   private:
    friend class PatternMatcher;
    explicit Scratch(std::unique_ptr<matching_detail::ScratchState> state) noexcept;
    std::unique_ptr<matching_detail::ScratchState> state_;
  };

  // Compiles the patterns: PCRE2 JIT (~2 ms for 256) and, when available,
  // three Hyperscan databases (~15 ms for 256 literals, ~250 ms for 256
  // mixed literals and regexes): do it off the matching path. Throws
  // std::invalid_argument whose message names the offending pattern for: an
  // empty pattern, one over the length limit, more patterns than the limit,
  // a caseless literal too large for PCRE2 (about 32 KiB, possible only with
  // a raised max_pattern_length), and (with limits.strict) an invalid regex
  // (PCRE2's message and offset included). std::bad_alloc on memory exhaustion.
  static std::unique_ptr<const PatternMatcher> build(const std::vector<PatternSpec>& specs,
                                                     const MatcherLimits& limits = {});

  ~PatternMatcher();
  PatternMatcher(const PatternMatcher&) = delete;
  PatternMatcher& operator=(const PatternMatcher&) = delete;

  // Index = pattern id, in the order of the specs.
  [[nodiscard]] const std::vector<CompiledPattern>& patterns() const noexcept;
  // "hyperscan+pcre2" or "pcre2-jit" (or "none" with no patterns).
  [[nodiscard]] std::string_view engine() const noexcept;
  // Why Hyperscan is not used ("" when it is): "built without Hyperscan",
  // "Hyperscan disabled" (MatcherLimits::use_hyperscan), the CPU lacks SSSE3,
  // a database-wide compile error. Empty too when there are no patterns.
  [[nodiscard]] std::string_view hyperscan_note() const noexcept;

  // Throws std::bad_alloc (or std::runtime_error when Hyperscan refuses).
  [[nodiscard]] std::unique_ptr<Scratch> make_scratch() const;

  // True if any pattern matches the event (early exit).
  [[nodiscard]] bool match_any(const EventText& event, Scratch& scratch) const noexcept;

  // Appends to `hits` every (event, pattern) pair that matches, each pair at
  // most once, ordered by event index then pattern id. The fast path for a
  // window: it scans many events per engine call. Throws only std::bad_alloc
  // (growing `hits` or the scratch). Events past index 2^32-1 are ignored.
  void match_events(std::span<const EventText> events, Scratch& scratch, std::vector<PatternHit>& hits) const;

  // Same contract and results as match_events, one engine call per field of
  // each event: the strategy match_events was measured against, kept for the
  // benchmark and as a cross-check in the tests.
  void match_events_per_event(std::span<const EventText> events, Scratch& scratch,
                              std::vector<PatternHit>& hits) const;

 private:
  PatternMatcher(std::vector<CompiledPattern> patterns, std::unique_ptr<matching_detail::MatcherState> state) noexcept;
  [[nodiscard]] matching_detail::ScratchState* own(Scratch& scratch) const noexcept;
  // The body of match_events (chunked) and match_events_per_event.
  void match_window(std::span<const EventText> events, Scratch& scratch, std::vector<PatternHit>& hits,
                    bool chunked) const;

  std::vector<CompiledPattern> patterns_;
  std::unique_ptr<matching_detail::MatcherState> state_;
};

}  // namespace preroll::daemon
