// MarkingPolicy::build's refusals (each naming the option), marking when it
// is off or has no pattern, the policy as JSON, the selection settings it
// derives, and out of memory while building it. (Not while describing it:
// nlohmann::json's destructors allocate, so a failure there terminates.)
#include <algorithm>
#include <catch2/catch.hpp>
#include <new>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "config.hpp"
#include "count_conditions.hpp"
#include "failing_new.hpp"
#include "failing_new_impl.hpp"  // this executable's operator new
#include "marking_policy.hpp"

using preroll::daemon::CountConditions;
using preroll::daemon::MarkingPolicy;
using preroll::daemon::OnCrash;
using preroll::daemon::PatternField;
using preroll::daemon::PatternKind;
using preroll::daemon::PolicyConfig;
using preroll::daemon::TriggerSpec;
using preroll::test::count_allocations;
using preroll::test::run_with_failing_allocation;
using Catch::Matchers::StartsWith;

namespace {

PolicyConfig build_test_config(std::vector<TriggerSpec> t) {
  PolicyConfig c;
  c.triggers = std::move(t);
  c.trigger_level = -1;
  return c;
}

TriggerSpec build_test_lit(std::string s) { return {std::move(s), PatternKind::literal, 1, 0}; }
TriggerSpec build_test_re(std::string s) { return {std::move(s), PatternKind::regex, 1, 0}; }

}  // namespace

TEST_CASE("marking policy: a trigger level outside 0..5 is refused naming the option and the value") {
  PolicyConfig c = build_test_config({});
  for (const int bad : {6, -2}) {
    c.trigger_level = bad;
    CHECK_THROWS_WITH(MarkingPolicy::build(c), "--trigger-level " + std::to_string(bad) + " outside 0..5");
  }
  for (const int ok : {-1, 0, 5}) {
    c.trigger_level = ok;
    CHECK(MarkingPolicy::build(c)->level_threshold() == ok);
  }
}

TEST_CASE("marking policy: an empty trigger is refused, it would match every event") {
  CHECK_THROWS_WITH(MarkingPolicy::build(build_test_config({build_test_lit("x"), build_test_lit("")})),
                    "--trigger '': an empty pattern would match every event");
}

TEST_CASE("marking policy: what the pattern engine refuses is reported as a --trigger error") {
  PolicyConfig strict = build_test_config({build_test_lit("ok"), build_test_re("a(b")});
  strict.strict_patterns = true;
  CHECK_THROWS_WITH(MarkingPolicy::build(strict),
                    "--trigger: pattern #1 \"a(b\": invalid regex: missing closing parenthesis at offset 3");
  std::vector<TriggerSpec> many(4097, build_test_lit("t"));
  CHECK_THROWS_WITH(MarkingPolicy::build(build_test_config(many)),
                    "--trigger: too many trigger patterns: 4097 given, the limit is 4096");
}

TEST_CASE("marking policy: with marking off nothing is marked, not even at the trigger level") {
  PolicyConfig c = build_test_config({build_test_lit("x")});
  c.marking = false;
  c.trigger_level = 0;
  const auto p = MarkingPolicy::build(c);
  CHECK_FALSE(p->enabled());
  auto scratch = p->matcher()->make_scratch();
  CHECK_FALSE(p->marks("x", "x", 5, scratch.get()));
  CHECK_FALSE(p->selection(8).marking);
}

TEST_CASE("marking policy: without patterns only the level marks, and without a scratch patterns cannot") {
  PolicyConfig c = build_test_config({});
  c.trigger_level = 4;
  const auto levels_only = MarkingPolicy::build(c);
  CHECK(levels_only->enabled());
  CHECK(levels_only->matcher() == nullptr);
  CHECK(levels_only->marks("n", "m", 4, nullptr));
  CHECK_FALSE(levels_only->marks("n", "m", 3, nullptr));

  c.triggers = {build_test_lit("x")};
  const auto with_pattern = MarkingPolicy::build(c);
  CHECK_FALSE(with_pattern->marks("n", "x", 0, nullptr));
  auto scratch = with_pattern->matcher()->make_scratch();
  CHECK(with_pattern->marks("n", "x", 0, scratch.get()));
  CHECK_FALSE(with_pattern->has_count_conditions());
}

TEST_CASE("marking policy: the JSON description names every setting and pattern") {
  PolicyConfig c = build_test_config(
      {build_test_lit("a\"b"), build_test_re("c("), TriggerSpec{"d+", PatternKind::regex, 3, 1'500'000'000}});
  c.marking = false;
  c.ignore_case = true;
  c.trigger_field = PatternField::name;
  c.pre_roll = 3;
  c.post_roll = 2;
  c.flush_after_ns = 250'000'000;
  c.on_crash = "all";
  c.process_scope = true;
  const auto p = MarkingPolicy::build(c);
  const auto j = nlohmann::json::parse(p->to_json());
  CHECK(j["marking"] == "off");
  CHECK(j["trigger_level"] == "none");
  CHECK(j["ignore_case"] == true);
  CHECK(j["field"] == "name");
  CHECK(j["pre_roll"] == 3);
  CHECK(j["post_roll"] == 2);
  CHECK(j["flush_after_s"] == 0.25);
  CHECK(j["on_crash"] == "all");
  CHECK(j["scope"] == "process");
  CHECK(j["engine"] == std::string(p->matcher()->engine()));
  REQUIRE(j["patterns"].size() == 3);
  CHECK(j["patterns"][0] == nlohmann::json{{"id", 0}, {"kind", "literal"}, {"text", "a\"b"}});
  CHECK(j["patterns"][1]["kind"] == "literal");  // fell back
  CHECK(j["patterns"][1]["fallback"] == "missing closing parenthesis");
  CHECK(j["patterns"][2] ==
        nlohmann::json{{"id", 2}, {"kind", "regex"}, {"text", "d+"}, {"min_count", 3}, {"within_s", 1.5}});

  PolicyConfig plain = build_test_config({});
  plain.trigger_level = 5;
  const auto q = nlohmann::json::parse(MarkingPolicy::build(plain)->to_json());
  CHECK(q["marking"] == "on");
  CHECK(q["trigger_level"] == "fatal");
  CHECK(q["scope"] == "lane");
  CHECK(q["engine"] == "none");
  CHECK(q["patterns"].empty());
}

TEST_CASE("marking policy: selection keeps a spare ring per lane and maps --on-crash") {
  PolicyConfig c = build_test_config({});
  c.pre_roll = 5;
  c.post_roll = 1;
  CHECK(MarkingPolicy::build(c)->selection(4).pre_roll == 2);  // one active, one spare
  CHECK(MarkingPolicy::build(c)->selection(2).pre_roll == 0);
  CHECK(MarkingPolicy::build(c)->selection(16).pre_roll == 5);
  const std::pair<const char*, OnCrash> modes[] = {{"marked", OnCrash::marked}, {"all", OnCrash::all}, {"none", OnCrash::none}};
  for (const auto& [text, mode] : modes) {
    c.on_crash = text;
    CHECK(MarkingPolicy::build(c)->selection(4).on_crash == mode);
  }
}

TEST_CASE("count condition: a trigger without one always holds, and a new policy starts the counts afresh") {
  PolicyConfig c = build_test_config({build_test_lit("plain"), TriggerSpec{"twice", PatternKind::literal, 2, 1'000}});
  const auto first = MarkingPolicy::build(c);
  const auto second = MarkingPolicy::build(c);
  CountConditions counts;
  CHECK(counts.on_match(*first, 0, 10));
  CHECK_FALSE(counts.on_match(*first, 1, 10));
  CHECK(counts.on_match(*first, 1, 500));  // the second within 1000 ns
  CHECK_FALSE(counts.on_match(*second, 1, 600));  // another policy: its first
  CHECK(counts.on_match(*second, 1, 600));
  CHECK_FALSE(counts.on_match(*second, 1, 5'000));  // the earlier ones fell out of the span
  CHECK(counts.on_match(*second, 1, 4'000));         // out of order, older than the newest kept: inside
  CHECK(counts.on_match(*second, 1, 4'100));         // a third within the span: the oldest is dropped, still two
}

TEST_CASE("marking policy: out of memory while building it throws bad_alloc and leaks nothing") {
  const PolicyConfig c = build_test_config({build_test_lit("alpha"), build_test_re("be+ta"), build_test_re("gam(ma"),
                                            TriggerSpec{"d", PatternKind::literal, 2, 5}});
  // With every allocation from number n on failing, build throws
  // (inside Hyperscan's compiler the failure is its own error, but the
  // allocations after it fail too). Most allocations are the compiler's:
  // the first and last 40 fail, and 40 spread between.
  const auto build = [&] { (void)MarkingPolicy::build(c); };
  const long total = count_allocations(/*sticky=*/true, build);
  std::vector<long> points;
  for (long n = 0; n < total; ++n)
    if (n < 40 || n >= total - 40 || n % std::max(1L, total / 40) == 0) points.push_back(n);
  for (const long n : points) {
    INFO("allocation " << n << " of " << total);
    const auto run = run_with_failing_allocation(n, /*sticky=*/true, build);
    REQUIRE(run.fired);
    REQUIRE(run.threw_bad_alloc);
  }

  CHECK(total > 40);
}
