// The fast matcher against a simple reference on generated events and
// patterns, and the same matcher shared by four threads.
//
// The reference knows nothing of PCRE2 or Hyperscan: std::string_view::find
// for literals (ASCII tolower on both sides when caseless) and std::regex
// (ECMAScript) for regexes from a small grammar whose meaning is the same in
// ECMAScript and PCRE2 (PCRE2's `$` is written (?=\n?$) for ECMAScript; a
// caseless regex uses only lowercase letters and runs on the lowercased text).
#include "matching_test_support.hpp"
#include "pattern_matcher.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <random>
#include <regex>
#include <string>
#include <thread>
#include <vector>


using namespace preroll::daemon;
using namespace preroll::daemon::test;

namespace {

// Bytes the events and patterns are made of: few, so hits are common; with
// the chunk separator '\n', NUL, 0xFF and a UTF-8 lead byte. No '\r': '.'
// excludes it in ECMAScript, not in PCRE2.
constexpr std::string_view kAlphabet("abcAB01 _\n-\0\xff\xc3", 14);

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), ascii_lower);
  return out;
}

struct RefPattern {
  PatternSpec spec;
  std::regex ecma;  // regexes only
};

class Generator {
 public:
  explicit Generator(std::uint32_t seed) : rng_(seed) {}

  std::size_t below(std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_); }
  bool chance(double p) { return std::bernoulli_distribution(p)(rng_); }

  std::string text(std::size_t max_len) {
    std::string s(below(max_len + 1), ' ');
    for (char& c : s) c = kAlphabet[below(kAlphabet.size())];
    return s;
  }

  // A literal, or a regex in both dialects.
  RefPattern pattern() {
    RefPattern p;
    p.spec.ignore_case = chance(0.3);
    p.spec.field = std::array{PatternField::any, PatternField::any, PatternField::name,
                              PatternField::message}[below(4)];
    if (chance(0.5)) {
      p.spec.kind = PatternKind::literal;
      p.spec.text = text(4);
      if (p.spec.text.empty()) p.spec.text = "a";
      return p;
    }
    p.spec.kind = PatternKind::regex;
    std::string pcre, ecma;
    if (chance(0.15)) pcre += "^", ecma += "^";
    const std::size_t atoms = 1 + below(4);
    for (std::size_t i = 0; i < atoms; ++i) {
      std::string a = atom(p.spec.ignore_case);
      if (chance(0.1)) a = "(?:" + a + "|" + atom(p.spec.ignore_case) + ")";
      if (chance(0.05)) a = "(" + a + ")\\1";  // back-reference: Hyperscan prefilter
      static constexpr const char* kQuant[] = {"", "", "", "?", "*", "+", "{1,3}"};
      if (a != "\\b") a += kQuant[below(std::size(kQuant))];  // an assertion is not repeatable
      if (chance(0.05)) a += "(?!a)";  // lookahead: not chunk-safe
      pcre += a;
      ecma += a;
    }
    if (chance(0.15)) pcre += "$", ecma += "(?=\\n?$)";
    p.spec.text = pcre;
    p.ecma = std::regex(ecma, std::regex::ECMAScript);
    return p;
  }

 private:
  std::string atom(bool lowercase_only) {
    static constexpr const char* kAtoms[] = {"a", "b", "c", "A", "B", "0", "1", " ", "_", "-", ".", "\\d",
                                             "\\w", "\\s", "\\W", "[a-c]", "[^ab]", "\\x00", "\\xff",
                                             "\\n", "\\b"};
    for (;;) {
      std::string a = kAtoms[below(std::size(kAtoms))];
      if (!lowercase_only || lower(a) == a) return a;
    }
  }
  std::mt19937 rng_;
};

bool ref_field_matches(const RefPattern& p, std::string_view text) {
  const bool ic = p.spec.ignore_case;
  if (p.spec.kind == PatternKind::literal) {
    return ic ? lower(text).find(lower(p.spec.text)) != std::string::npos
              : text.find(p.spec.text) != std::string_view::npos;
  }
  const std::string subject = ic ? lower(text) : std::string(text);
  return std::regex_search(subject, p.ecma);
}

bool ref_matches(const RefPattern& p, const EventText& e) {
  const PatternField f = p.spec.field;
  return (f != PatternField::message && ref_field_matches(p, e.name)) ||
         (f != PatternField::name && ref_field_matches(p, e.message));
}

std::vector<std::string> make_texts(Generator& g, const std::vector<RefPattern>& patterns, std::size_t n) {
  std::vector<std::string> texts;
  for (std::size_t i = 0; i < n; ++i) {
    std::string t = g.text(40);
    // Plant a literal now and then, at the start, the end or inside.
    if (g.chance(0.2)) {
      const RefPattern& p = patterns[g.below(patterns.size())];
      if (p.spec.kind == PatternKind::literal) t.insert(g.below(t.size() + 1), p.spec.text);
    }
    texts.push_back(std::move(t));
  }
  return texts;
}

std::vector<EventText> as_events(const std::vector<std::string>& texts) {
  std::vector<EventText> events;
  for (std::size_t i = 0; i + 1 < texts.size(); i += 2) events.push_back({texts[i], texts[i + 1]});
  return events;
}

}  // namespace

TEST_CASE("randomized__generated_events_and_patterns__then_fast_matcher_equals_reference") {
  const bool hs = GENERATE(true, false);
  std::size_t events_checked = 0, hits_checked = 0;
  std::size_t paths[3] = {0, 0, 0};  // by MatchPath
  for (std::uint32_t seed = 1; seed <= 12; ++seed) {
    Generator g(seed);
    std::vector<RefPattern> refs;
    const std::size_t n_patterns = 8 + g.below(40);
    for (std::size_t i = 0; i < n_patterns; ++i) refs.push_back(g.pattern());
    std::vector<PatternSpec> specs;
    for (const RefPattern& r : refs) specs.push_back(r.spec);
    MatcherLimits limits;
    limits.use_hyperscan = hs;
    limits.strict = true;  // the grammar only makes valid regexes
    const auto m = PatternMatcher::build(specs, limits);
    for (const CompiledPattern& c : m->patterns()) ++paths[static_cast<int>(c.path)];

    const std::vector<std::string> texts = make_texts(g, refs, 700);
    const std::vector<EventText> events = as_events(texts);
    std::vector<PatternHit> expected;
    for (std::uint32_t i = 0; i < events.size(); ++i)
      for (std::uint32_t id = 0; id < refs.size(); ++id)
        if (ref_matches(refs[id], events[i])) expected.push_back({i, id});

    auto scratch = m->make_scratch();
    std::vector<PatternHit> fast, per_event;
    m->match_events(events, *scratch, fast);
    m->match_events_per_event(events, *scratch, per_event);
    INFO("seed " << seed << ", engine " << m->engine());
    if (fast != expected) {  // name the first difference
      std::size_t k = 0;
      while (k < fast.size() && k < expected.size() && fast[k] == expected[k]) ++k;
      const PatternHit h = k < expected.size() ? expected[k] : fast[k];
      INFO("first difference: event " << h.event_index << " pattern " << h.pattern_id << " '"
                                       << specs[h.pattern_id].text << "'");
      CHECK(fast == expected);
    }
    CHECK(per_event == expected);
    for (std::uint32_t i = 0; i < events.size(); ++i) {
      const bool any = std::any_of(expected.begin(), expected.end(), [i](const PatternHit& h) { return h.event_index == i; });
      if (m->match_any(events[i], *scratch) != any) {
        INFO("match_any differs on event " << i);
        CHECK(false);
      }
    }
    CHECK(scratch->match_errors() == 0);
    events_checked += events.size();
    hits_checked += expected.size();
  }
  CHECK(events_checked >= 4000);
  CHECK(hits_checked > 1000);  // the comparison saw real matches, not only misses
  if (hs && paths[static_cast<int>(MatchPath::hyperscan_exact)] > 0) {
    // With Hyperscan, all three paths were exercised.
    CHECK(paths[static_cast<int>(MatchPath::hyperscan_prefilter)] > 0);
    CHECK(paths[static_cast<int>(MatchPath::pcre2)] > 0);
  }
}

TEST_CASE("concurrent_marking__multiple_threads__then_thread_safe") {
  const bool hs = GENERATE(true, false);
  Generator g(77);
  std::vector<RefPattern> refs;
  for (int i = 0; i < 32; ++i) refs.push_back(g.pattern());
  std::vector<PatternSpec> specs;
  for (const RefPattern& r : refs) specs.push_back(r.spec);
  MatcherLimits limits;
  limits.use_hyperscan = hs;
  const auto m = PatternMatcher::build(specs, limits);
  const std::vector<std::string> texts = make_texts(g, refs, 4000);
  const std::vector<EventText> events = as_events(texts);

  std::vector<PatternHit> single;
  {
    auto scratch = m->make_scratch();
    m->match_events(events, *scratch, single);
  }
  REQUIRE_FALSE(single.empty());

  constexpr int kThreads = 4;
  std::vector<int> mismatches(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto scratch = m->make_scratch();  // one scratch per thread
      std::vector<PatternHit> hits;
      for (int round = 0; round < 20; ++round) {
        hits.clear();
        if (round % 2 == 0) {
          m->match_events(events, *scratch, hits);
        } else {
          for (std::uint32_t i = 0; i < events.size(); ++i)
            if (m->match_any(events[i], *scratch)) hits.push_back({i, 0});
          std::vector<PatternHit> marked;
          for (const PatternHit& h : single)
            if (marked.empty() || marked.back().event_index != h.event_index) marked.push_back({h.event_index, 0});
          if (hits != marked) ++mismatches[t];
          continue;
        }
        if (hits != single) ++mismatches[t];
      }
    });
  }
  for (std::thread& th : threads) th.join();
  CHECK(mismatches == std::vector<int>(kThreads, 0));
}
