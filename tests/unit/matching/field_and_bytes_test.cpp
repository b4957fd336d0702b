// Field selection, field and event boundaries, arbitrary bytes.
#include "matching_test_support.hpp"
#include "pattern_matcher.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

using namespace preroll::daemon;
using namespace preroll::daemon::test;

using Hits = std::vector<PatternHit>;

TEST_CASE("field_selection__name_message_any__then_only_the_chosen_field_matches") {
  const bool hs = GENERATE(true, false);
  const auto m = make({lit("db", false, PatternField::name), re("d.", false, PatternField::message),
                       lit("DB", true, PatternField::any)},
                      hs);
  const std::vector<EventText> events{
      {"db.query", "slow"},  // name: 0 and 2
      {"http", "db down"},   // message: 1 and 2
      {"http", "ok"},        // none
      {"", "d"},             // none: "d." needs two bytes
  };
  CHECK(hits_all_ways(*m, events) == Hits{{0, 0}, {0, 2}, {1, 1}, {1, 2}});
}

TEST_CASE("field_boundary__pattern_spanning_name_and_message__then_no_match") {
  const bool hs = GENERATE(true, false);
  const auto m = make({lit("netdown"), lit("net\ndown"), lit("net down"), re("net\\s*down"), re("t.d"),
                       re("net$"), re("^down"), re("^net\\ndown$")},
                      hs);
  const std::vector<EventText> events{{"net", "down"}, {"x", "net"}, {"down", "x"}};
  // Only the field-local anchored patterns match: "net$" on names/messages
  // ending in net, "^down" on those starting with down. Nothing spans
  // name|message (event 0) or message|next name (events 1, 2).
  CHECK(hits_all_ways(*m, events) == Hits{{0, 5}, {0, 6}, {1, 5}, {2, 6}});
}

TEST_CASE("field_boundary__assertions_that_see_past_the_match__then_judged_on_the_field_alone") {
  const bool hs = GENERATE(true, false);
  // \A, \z, \Z and lookaround next to a field's edge: the field alone decides,
  // never the neighbouring field or event (nor a separator between them).
  const auto m = make({re("\\Aboot"), re("done\\z"), re("done\\Z"), re("end(?!\\s)"), re("(?<!\\s)start"),
                       re("(?<=\\n)x")},
                      hs);
  const std::vector<EventText> events{
      {"sys", "boot ok"},    // 0: \Aboot
      {"all done", "next"},  // 1: done\z, done\Z
      {"the end", "x"},      // 2: end(?!\s)
      {"start", "go"},       // 3: (?<!\s)start
      {"a\nx", "x"},         // 4: (?<=\n)x in the name only
  };
  CHECK(hits_all_ways(*m, events) == Hits{{0, 0}, {1, 1}, {1, 2}, {2, 3}, {3, 4}, {4, 5}});
}

TEST_CASE("field_boundary__text_containing_the_separator__then_matched_within_the_field") {
  const bool hs = GENERATE(true, false);
  const auto m = make({lit("a\nb"), re("^b"), re("a$"), re("a\\nb$")}, hs);
  // PCRE2 without multiline: ^ only at the field's start, $ at its end or before a final \n.
  const std::vector<EventText> events{{"n", "a\nb"}, {"n", "xa\n"}, {"n", "b\na"}};
  CHECK(hits_all_ways(*m, events) == Hits{{0, 0}, {0, 3}, {1, 2}, {2, 1}, {2, 2}});
}

TEST_CASE("binary_text__nul_0xff_invalid_utf8_empty__then_safe_and_exact") {
  const bool hs = GENERATE(true, false);
  using namespace std::string_literals;
  using namespace std::string_view_literals;
  const auto m = make({lit("a\0b"s), lit("\xff\xfe"), re("\\xff+z"), lit("\xc3\xa9", true), re("\xc0."),
                       lit("\0"s)},
                      hs);
  const std::vector<EventText> events{
      {"", ""},                        // empty everything
      {"n", "xa\0by"sv},               // 0 and 5 (a static view: NUL inside)
      {"n", "\xff\xff\xffz"},          // 2
      {"n", "\xff\xfe\xfd"},           // 1
      {"n", "\xc3\xa9t\xc3\xa9"},      // 3 (and no case folding of non-ASCII)
      {"n", "\xc3\x89"},               // none: 0xC9 is not 0xE9 without UTF
      {"\xc0\x80", "\xed\xa0\x80"},    // 4 on the name (overlong / surrogate UTF-8)
      {{}, {}},                        // null views
  };
  CHECK(hits_all_ways(*m, events) == Hits{{1, 0}, {1, 5}, {2, 2}, {3, 1}, {4, 3}, {6, 4}});
}

TEST_CASE("binary_text__every_byte_value__then_literal_found_exactly_once_per_event") {
  const bool hs = GENERATE(true, false);
  std::vector<PatternSpec> specs;
  for (int b = 0; b < 256; ++b) specs.push_back(lit(std::string(1, static_cast<char>(b)) + "#"));
  const auto m = make(specs, hs);
  std::vector<std::string> texts;
  for (int b = 0; b < 256; ++b) texts.push_back("<" + std::string(1, static_cast<char>(b)) + "#>");
  std::vector<EventText> events;
  for (const std::string& t : texts) events.push_back({"", t});
  Hits expected;
  for (std::uint32_t b = 0; b < 256; ++b) {
    expected.push_back({b, b});
    if (b == '#') expected.push_back({b, '<'});  // "<##>" holds "<#" too
  }
  std::sort(expected.begin(), expected.end(), [](const PatternHit& a, const PatternHit& b) {
    return a.event_index != b.event_index ? a.event_index < b.event_index : a.pattern_id < b.pattern_id;
  });
  CHECK(hits_all_ways(*m, events) == expected);
}

TEST_CASE("match_events__large_window_and_oversized_event__then_equals_single_pattern_reference") {
  const bool hs = GENERATE(true, false);
  const std::vector<PatternSpec> specs{lit("needle"), lit("NEEDLE", true), re("ne+dle\\d"), re("^big"),
                                       re("(?<=x)needle"), lit("tail", false, PatternField::name)};
  const auto m = make(specs, hs);
  std::vector<std::string> messages;
  for (int i = 0; i < 5000; ++i) {
    std::string s = "event " + std::to_string(i) + " payload";
    if (i % 97 == 0) s += " xneedle";
    if (i % 89 == 0) s += " NeEdLe7";
    if (i % 83 == 0) s = "big " + s;
    messages.push_back(std::move(s));
  }
  messages[1234] = "big" + std::string(200'000, '.') + "needle";  // larger than a chunk
  std::vector<EventText> events;
  for (std::size_t i = 0; i < messages.size(); ++i) events.push_back({i % 7 == 0 ? "tail" : "head", messages[i]});

  // Reference: one PCRE2-only matcher per pattern, one event at a time.
  Hits expected;
  std::vector<std::unique_ptr<const PatternMatcher>> singles;
  for (const PatternSpec& s : specs) singles.push_back(make({s}, false));
  for (std::uint32_t i = 0; i < events.size(); ++i)
    for (std::uint32_t id = 0; id < specs.size(); ++id) {
      auto scratch = singles[id]->make_scratch();
      if (singles[id]->match_any(events[i], *scratch)) expected.push_back({i, id});
    }
  REQUIRE(expected.size() > 500);
  CHECK(hits_all_ways(*m, events) == expected);

  // Appends after what is already there.
  auto scratch = m->make_scratch();
  Hits hits{{99, 99}};
  m->match_events(events, *scratch, hits);
  REQUIRE(hits.size() == expected.size() + 1);
  CHECK(hits.front() == PatternHit{99, 99});
}
