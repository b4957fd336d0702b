// Literal triggers and client marks (the PCRE2 engine extends this, #4).
#include <catch2/catch.hpp>
#include <string>

#include "marking_policy.hpp"

using preroll::daemon::MarkingPolicy;
using preroll::daemon::PatternCounts;

TEST_CASE("literal trigger in the message or the name marks the event and is counted") {
  auto p = MarkingPolicy::build({true, {"timeout", "db"}, -1});
  PatternCounts c;
  c.reset(p->patterns().size());
  CHECK(p->match("net", "upstream timeout after 3s", c));
  CHECK(p->match("db", "query ok", c));
  CHECK_FALSE(p->match("net", "all fine", c));
  CHECK(c.hits[0] == 1);
  CHECK(c.hits[1] == 1);
}

TEST_CASE("literal match is case-sensitive by default") {
  auto p = MarkingPolicy::build({true, {"ERROR"}, -1});
  PatternCounts c;
  c.reset(1);
  CHECK_FALSE(p->match("", "error: disk", c));
  CHECK(p->match("", "ERROR: disk", c));
}

TEST_CASE("level threshold marks events at or above it, none disables it") {
  auto p = MarkingPolicy::build({true, {}, 4});
  CHECK(p->level_marks(4));
  CHECK(p->level_marks(5));
  CHECK_FALSE(p->level_marks(3));
  auto none = MarkingPolicy::build({true, {}, -1});
  CHECK_FALSE(none->level_marks(5));
  CHECK_THROWS_AS(MarkingPolicy::build({true, {}, 6}), std::invalid_argument);
}

TEST_CASE("binary and empty text is matched safely") {
  auto p = MarkingPolicy::build({true, {std::string("\0\xff", 2)}, -1});
  PatternCounts c;
  c.reset(1);
  CHECK(p->match("", std::string("ab\0\xff" "cd", 6), c));
  CHECK_FALSE(p->match("", "", c));
  CHECK_FALSE(p->match({}, {}, c));
}

TEST_CASE("an empty trigger is a configuration error") {
  CHECK_THROWS_AS(MarkingPolicy::build({true, {""}, -1}), std::invalid_argument);
}

TEST_CASE("policy JSON lists every pattern with its id") {
  auto p = MarkingPolicy::build({true, {"a", "b"}, -1});
  const std::string j = p->to_json();
  CHECK(j.find("\"text\":\"a\"") != std::string::npos);
  CHECK(j.find("\"id\":1") != std::string::npos);
}
