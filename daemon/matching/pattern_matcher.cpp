#include "pattern_matcher.hpp"

#include "matcher_state.hpp"

#include <algorithm>
#include <climits>
#include <stdexcept>

namespace preroll::daemon {

using matching_detail::MatcherState;
using matching_detail::Pcre2CompileError;
using matching_detail::Pcre2Pattern;
using matching_detail::ScratchState;

namespace {

// A pattern as an error message shows it: printable ASCII as is, other
// bytes \xHH, cut after 80 bytes.
std::string describe(std::size_t index, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "pattern #" + std::to_string(index) + " \"";
  for (std::size_t i = 0; i < text.size() && i < 80; ++i) {
    const auto b = static_cast<unsigned char>(text[i]);
    if (b >= 0x20 && b < 0x7F && b != '"' && b != '\\') {
      out.push_back(static_cast<char>(b));
    } else {
      out += "\\x";
      out.push_back(kHex[b >> 4]);
      out.push_back(kHex[b & 0xF]);
    }
  }
  out += text.size() > 80 ? "...\"" : "\"";
  return out;
}

#ifdef PREROLL_HAVE_HYPERSCAN
// s.found, sorted and without repeats, appended to hits.
void append_found(ScratchState& s, std::vector<PatternHit>& hits) {
  const auto key = [](const PatternHit& h) { return (std::uint64_t{h.event_index} << 32) | h.pattern_id; };
  std::sort(s.found.begin(), s.found.end(), [&](const PatternHit& a, const PatternHit& b) { return key(a) < key(b); });
  s.found.erase(std::unique(s.found.begin(), s.found.end()), s.found.end());
  hits.insert(hits.end(), s.found.begin(), s.found.end());
  s.found.clear();
}
#endif

}  // namespace

// ---- Scratch ------------------------------------------------------------

PatternMatcher::Scratch::Scratch(std::unique_ptr<ScratchState> state) noexcept : state_(std::move(state)) {}
PatternMatcher::Scratch::~Scratch() = default;

std::uint64_t PatternMatcher::Scratch::match_errors() const noexcept {
  return state_->errors + state_->pcre.errors;
}

// ---- build ----------------------------------------------------------------

std::unique_ptr<const PatternMatcher> PatternMatcher::build(const std::vector<PatternSpec>& specs,
                                                            const MatcherLimits& limits) {
  const std::size_t max_patterns = std::min<std::size_t>(limits.max_patterns, UINT32_MAX);
  // The Hyperscan path keeps lengths in 32 bits and escapes a literal's bytes
  // to up to 4 each.
  const std::size_t max_length = std::min<std::size_t>(limits.max_pattern_length, UINT32_MAX / 4);
  if (specs.size() > max_patterns)
    throw std::invalid_argument("too many trigger patterns: " + std::to_string(specs.size()) +
                                " given, the limit is " + std::to_string(max_patterns));
  auto state = std::make_unique<MatcherState>();
  state->match_limit = limits.pcre2_match_limit;
  std::vector<CompiledPattern> compiled;
  compiled.reserve(specs.size());
  state->pcre.reserve(specs.size());
  for (std::size_t i = 0; i < specs.size(); ++i) {
    const PatternSpec& spec = specs[i];
    if (spec.text.empty()) throw std::invalid_argument(describe(i, spec.text) + ": empty trigger pattern");
    if (spec.text.size() > max_length)
      throw std::invalid_argument(describe(i, spec.text) + ": " + std::to_string(spec.text.size()) +
                                  " bytes long, the limit is " + std::to_string(max_length));
    CompiledPattern c;
    c.spec = spec;
    Pcre2Pattern p;
    if (spec.kind == PatternKind::regex) {
      Pcre2CompileError err;
      p = Pcre2Pattern::regex(spec.text, spec.ignore_case, err);
      if (!p.valid()) {
        if (limits.strict)
          throw std::invalid_argument(describe(i, spec.text) + ": invalid regex: " + err.message + " at offset " +
                                      std::to_string(err.offset));
        c.spec.kind = PatternKind::literal;
        c.fell_back_to_literal = true;
        c.compile_error = std::move(err.message);
        c.error_offset = err.offset;
      }
    }
    if (c.spec.kind == PatternKind::literal) {
      Pcre2CompileError err;
      p = Pcre2Pattern::literal(spec.text, spec.ignore_case, err);
      if (!p.valid()) throw std::invalid_argument(describe(i, spec.text) + ": PCRE2 cannot take it: " + err.message);
    }
    state->pcre.push_back(std::move(p));
    state->field.push_back(spec.field);
    compiled.push_back(std::move(c));
  }
#ifdef PREROLL_HAVE_HYPERSCAN
  if (!compiled.empty() && limits.use_hyperscan) {
    state->hs = matching_detail::HyperscanEngine::build(compiled, *state, state->hyperscan_note);
    if (state->hs)
      for (std::uint32_t id = 0; id < compiled.size(); ++id) compiled[id].path = state->hs->path(id);
  } else if (!compiled.empty()) {
    state->hyperscan_note = "Hyperscan disabled";
  }
#else
  if (limits.use_hyperscan && !compiled.empty()) state->hyperscan_note = "built without Hyperscan";
#endif
  if (!state->has_hyperscan()) state->pcre2_engine = std::make_unique<matching_detail::Pcre2Engine>(compiled, *state);
  return std::unique_ptr<const PatternMatcher>(new PatternMatcher(std::move(compiled), std::move(state)));
}

PatternMatcher::PatternMatcher(std::vector<CompiledPattern> patterns, std::unique_ptr<MatcherState> state) noexcept
    : patterns_(std::move(patterns)), state_(std::move(state)) {}

PatternMatcher::~PatternMatcher() = default;

const std::vector<CompiledPattern>& PatternMatcher::patterns() const noexcept { return patterns_; }

std::string_view PatternMatcher::engine() const noexcept {
  if (patterns_.empty()) return "none";
  return state_->has_hyperscan() ? "hyperscan+pcre2" : "pcre2-jit";
}

std::string_view PatternMatcher::hyperscan_note() const noexcept { return state_->hyperscan_note; }

std::unique_ptr<PatternMatcher::Scratch> PatternMatcher::make_scratch() const {
  auto s = std::make_unique<ScratchState>(*state_);
#ifdef PREROLL_HAVE_HYPERSCAN
  if (state_->hs) state_->hs->init_scratch(s->hs);
#endif
  return std::unique_ptr<Scratch>(new Scratch(std::move(s)));
}

// A scratch made by another matcher (an old policy's after a reload) has
// Hyperscan scratch sized for other databases: refuse it, counted.
ScratchState* PatternMatcher::own(Scratch& scratch) const noexcept {
  ScratchState* s = scratch.state_.get();
  if (s->owner == state_.get()) return s;
  ++s->errors;
  return nullptr;
}

// ---- matching -------------------------------------------------------------

bool PatternMatcher::match_any(const EventText& event, Scratch& scratch) const noexcept {
  ScratchState* s = own(scratch);
  if (s == nullptr) return false;
#ifdef PREROLL_HAVE_HYPERSCAN
  if (state_->hs) return state_->hs->match_any(event, *s);
#endif
  return state_->pcre2_engine->match_any(event, s->pcre);  // built whenever Hyperscan is not used, even for no patterns
}

// The window fast path. Strategy chosen by measurement (bench_marking, 2-core
// AMD EPYC VM, 8 MiB of log-like events of ~61 bytes, 0.1% with a trigger,
// medians of 3, CPU ns per event; floor: memchr over every byte 10.3 ns):
//
//   16 patterns            chunk   per-event  match_any  PCRE2 alternation
//   literal, case-sens.     30.3      87.5       82.6        209.5
//   literal, caseless       29.5      80.7       78.0        225.2
//   mixed                   27.2     107.7      109.7        161.5
//   regex                   31.8     115.2      112.4        186.8
//   256 patterns: chunk 30-33 ns (1.0-1.1x its cost at 16), per-event
//   96-132 ns, the alternation 3.2-13.8 us.
//
// One hs_scan per field costs ~45 ns of call overhead twice per event; one
// scan over a 64 KiB chunk of fields (each followed by '\n') and a binary
// search per hit (hits are rare) is 3-4x cheaper, so the chunk it is
// (HyperscanEngine::match_events_chunked). The chunk size barely matters
// (16, 64 and 256 KiB within noise). Without Hyperscan: Pcre2Engine.
void PatternMatcher::match_events(std::span<const EventText> events, Scratch& scratch,
                                  std::vector<PatternHit>& hits) const {
  match_window(events, scratch, hits, /*chunked=*/true);
}

void PatternMatcher::match_events_per_event(std::span<const EventText> events, Scratch& scratch,
                                            std::vector<PatternHit>& hits) const {
  match_window(events, scratch, hits, /*chunked=*/false);
}

void PatternMatcher::match_window(std::span<const EventText> events, Scratch& scratch, std::vector<PatternHit>& hits,
                                  bool chunked) const {
  ScratchState* s = own(scratch);
  if (s == nullptr || patterns_.empty()) return;
#ifdef PREROLL_HAVE_HYPERSCAN
  if (state_->hs) {
    s->found.clear();
    if (chunked) {
      state_->hs->match_events_chunked(events, *s);
    } else {
      state_->hs->match_events_per_event(events, *s);
    }
    append_found(*s, hits);
    return;
  }
#else
  (void)chunked;
#endif
  state_->pcre2_engine->match_events(events, s->pcre, hits);
}

}  // namespace preroll::daemon
