// The marking policy as the daemon uses it: built from configuration,
// marking events by pattern, level and client flag, count conditions per
// client, reload, and its cost against a plain pass. The pattern engine's
// own exhaustive tests are in tests/unit/matching/.
#include <malloc.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "config.hpp"
#include "marking_policy.hpp"
#include "parse_options.hpp"
#include "test_segment.hpp"

using namespace preroll;
using daemon::MarkingPolicy;
using daemon::PolicyConfig;
using daemon::TriggerSpec;
using test::parse_options;

namespace {

PolicyConfig triggers(std::vector<TriggerSpec> t, bool ignore_case = false) {
  PolicyConfig c;
  c.triggers = std::move(t);
  c.ignore_case = ignore_case;
  c.trigger_level = -1;  // patterns only, unless a test says otherwise
  c.pre_roll = 0;        // the strict rule: only marked windows
  c.post_roll = 0;
  return c;
}

TriggerSpec lit(std::string s) { return {std::move(s), daemon::PatternKind::literal, 1, 0}; }
TriggerSpec re(std::string s) { return {std::move(s), daemon::PatternKind::regex, 1, 0}; }

// Marks one event with a fresh scratch.
bool marks(const MarkingPolicy& p, std::string_view message, std::string_view name = "app", std::uint8_t level = 2) {
  auto scratch = p.matcher() ? p.matcher()->make_scratch() : nullptr;
  return p.marks(name, message, level, scratch.get());
}

}  // namespace

TEST_CASE("test_marking_policy_creation_and_cleanup") {
  std::weak_ptr<const MarkingPolicy> weak;
  {
    auto p = MarkingPolicy::build(triggers({lit("timeout"), re("conn(ection)? reset")}));
    weak = p;
    REQUIRE(p->pattern_count() == 2);
    REQUIRE(p->matcher() != nullptr);
    CHECK(p->matcher()->patterns().size() == 2);
    daemon::PolicyHolder holder(p);
    CHECK(holder.load() == p);
    holder.store(MarkingPolicy::build(triggers({})));
    CHECK_FALSE(weak.expired());  // `p` still holds it
  }
  CHECK(weak.expired());  // the last user dropped it: released
}

TEST_CASE("literal_pattern__exact_match__then_detected") {
  auto p = MarkingPolicy::build(triggers({lit("disk full")}));
  CHECK(marks(*p, "write failed: disk full on /var"));
  CHECK(marks(*p, "disk full"));
}

TEST_CASE("literal_pattern__case_sensitive__then_no_match") {
  auto p = MarkingPolicy::build(triggers({lit("ERROR")}));
  CHECK_FALSE(marks(*p, "an error occurred"));
  CHECK_FALSE(marks(*p, "Error: x"));
  CHECK(marks(*p, "ERROR: x"));
}

TEST_CASE("literal_pattern__case_insensitive__then_matches") {
  auto p = MarkingPolicy::build(triggers({lit("ERROR")}, /*ignore_case=*/true));
  CHECK(marks(*p, "an error occurred"));
  CHECK(marks(*p, "Error: x"));
  CHECK_FALSE(marks(*p, "all good"));
}

TEST_CASE("regex_pattern__valid_regex__then_matches") {
  auto p = MarkingPolicy::build(triggers({re("timeout after [0-9]+ ?ms")}));
  CHECK(marks(*p, "upstream timeout after 1500 ms"));
  CHECK(marks(*p, "timeout after 3ms"));
  CHECK_FALSE(marks(*p, "timeout after many ms"));
  CHECK(p->warnings().empty());
}

TEST_CASE("regex_pattern__invalid_regex__then_falls_back_to_literal") {
  auto p = MarkingPolicy::build(triggers({re("unclosed(group")}));
  REQUIRE(p->warnings().size() == 1);
  CHECK(p->warnings()[0].find("unclosed(group") != std::string::npos);
  CHECK(p->warnings()[0].find("offset") != std::string::npos);
  CHECK(p->matcher()->patterns()[0].fell_back_to_literal);
  CHECK(marks(*p, "text with unclosed(group inside"));
  CHECK_FALSE(marks(*p, "unclosedgroup"));
  CHECK(p->to_json().find("\"fallback\"") != std::string::npos);
  // --strict-patterns makes it a startup error naming the pattern.
  auto strict = triggers({re("unclosed(group")});
  strict.strict_patterns = true;
  try {
    MarkingPolicy::build(strict);
    FAIL("an invalid regex with --strict-patterns must throw");
  } catch (const std::invalid_argument& e) {
    CHECK(std::string(e.what()).find("unclosed(group") != std::string::npos);
  }
}

TEST_CASE("regex_pattern__complex_pattern__then_matches_correctly") {
  auto p = MarkingPolicy::build(
      triggers({re(R"(^(GET|POST) /api/[a-z]+/\d+ (5\d\d)$)"), re(R"((?i)seg(mentation)? ?fault)")}));
  CHECK(marks(*p, "POST /api/orders/42 503"));
  CHECK_FALSE(marks(*p, "POST /api/orders/42 404"));
  CHECK_FALSE(marks(*p, "xPOST /api/orders/42 503"));  // anchored
  CHECK(marks(*p, "Segmentation Fault in worker"));
  CHECK(marks(*p, "SEGFAULT"));
}

TEST_CASE("multiple_patterns__any_matches__then_detected") {
  auto p = MarkingPolicy::build(triggers({lit("alpha"), re("be+ta"), lit("gamma")}));
  CHECK(marks(*p, "only gamma here"));
  CHECK(marks(*p, "beeeta"));
  CHECK(marks(*p, "alpha and gamma"));
}

TEST_CASE("multiple_patterns__none_match__then_not_detected") {
  auto p = MarkingPolicy::build(triggers({lit("alpha"), re("be+ta"), lit("gamma")}));
  CHECK_FALSE(marks(*p, "delta epsilon"));
  CHECK_FALSE(marks(*p, ""));
  CHECK_FALSE(marks(*p, std::string("\0\xff\xfe", 3)));
}

TEST_CASE("test_detail_lane_control_initialization") {
  // A fresh segment: every lane free, no active ring, every ring in its free
  // queue, empty submit queue; the daemon's view starts from that state.
  test::TestSegment ts;
  const auto& seg = ts.ref();
  for (std::uint32_t l = 0; l < 2; ++l) {
    const auto& lane = seg.lane(l);
    CHECK(lane.state.load() == static_cast<std::uint32_t>(shm::LaneState::free));
    CHECK(lane.submit_queue.head.load() == lane.submit_queue.tail.load());
    CHECK(lane.free_queue.tail.load() - lane.free_queue.head.load() == 4);
  }
  auto cs = ts.attach();
  test::DrainHarness h(MarkingPolicy::build(triggers({})));
  test::FakeSink sink;
  cs->drain(sink, h.ctx());
  CHECK(sink.windows.empty());
  CHECK_FALSE(cs->faulty());
}

TEST_CASE("cli_config__to_marking_policy__then_patterns_loaded") {
  const auto r = parse_options({"--trigger", "timeout", "--trigger", "re:5\\d\\d$", "--trigger", "lit:re:literal",
                        "--min-count", "3", "--within", "2.5", "--ignore-case", "--trigger-field", "message",
                        "--trigger-level", "warn"});
  REQUIRE(r.config.has_value());
  const auto& pc = r.config->policy;
  REQUIRE(pc.triggers.size() == 3);
  CHECK(pc.triggers[0] == TriggerSpec{"timeout", daemon::PatternKind::literal, 1, 0});
  CHECK(pc.triggers[1] == TriggerSpec{"5\\d\\d$", daemon::PatternKind::regex, 1, 0});
  CHECK(pc.triggers[2] == TriggerSpec{"re:literal", daemon::PatternKind::literal, 3, 2'500'000'000});
  CHECK(pc.ignore_case);
  CHECK(pc.trigger_field == daemon::PatternField::message);
  CHECK(pc.trigger_level == 3);
  auto p = MarkingPolicy::build(pc);
  CHECK(p->pattern_count() == 3);
  CHECK(p->has_count_conditions());
  CHECK(marks(*p, "TIMEOUT", "app", 0));
  CHECK(marks(*p, "status 503", "app", 0));
  CHECK(marks(*p, "debug", "app", 3));  // level warn
  CHECK_FALSE(marks(*p, "debug", "timeout", 0));  // field: message only
}

TEST_CASE("invalid_cli_config__graceful_handling__then_default_policy") {
  // Each problem is reported with the option and value, and nothing runs.
  const auto r = parse_options({"--trigger", "", "--min-count", "0", "--trigger-field", "body", "--marking", "maybe"});
  CHECK_FALSE(r.config.has_value());
  CHECK(r.exit_code == 1);
  CHECK(r.message.find("--trigger ''") != std::string::npos);
  CHECK(r.message.find("--min-count 0") != std::string::npos);
  CHECK(r.message.find("--trigger-field") != std::string::npos);
  CHECK(r.message.find("--marking") != std::string::npos);
  // A count condition without its trigger, or half a condition, is refused.
  CHECK_FALSE(parse_options({"--min-count", "3", "--trigger", "x"}).config.has_value());
  CHECK_FALSE(parse_options({"--trigger", "x", "--min-count", "3"}).config.has_value());
  // A rejected reload leaves the running (default) policy in force.
  const auto defaults = parse_options({});
  REQUIRE(defaults.config.has_value());
  daemon::PolicyHolder holder(MarkingPolicy::build(defaults.config->policy));
  const auto before = holder.load();
  auto bad = triggers({re("(")});
  bad.strict_patterns = true;
  CHECK_THROWS_AS(holder.store(MarkingPolicy::build(bad)), std::invalid_argument);
  CHECK(holder.load() == before);
  CHECK(before->level_threshold() == 4);  // the default: error and above
  CHECK(before->pattern_count() == 0);
}

TEST_CASE("concurrent_marking__multiple_threads__then_thread_safe") {
  auto p = MarkingPolicy::build(triggers({lit("needle"), re("fail(ed|ure)"), lit("x9")}, true));
  std::vector<std::string> corpus;
  std::mt19937 rng(7);
  const char* words[] = {"alpha", "NEEDLE", "failure", "beta", "x9", "gamma", "failed", "noise"};
  for (int i = 0; i < 4000; ++i) corpus.push_back(std::string(words[rng() % 8]) + " " + words[rng() % 8]);
  std::vector<bool> expected;
  auto scratch = p->matcher()->make_scratch();
  for (const auto& s : corpus) expected.push_back(p->marks("n", s, 0, scratch.get()));
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      auto own = p->matcher()->make_scratch();
      for (int round = 0; round < 5; ++round)
        for (std::size_t i = 0; i < corpus.size(); ++i)
          if (p->marks("n", corpus[i], 0, own.get()) != expected[i]) ++mismatches;
    });
  for (auto& t : threads) t.join();
  CHECK(mismatches == 0);
}

TEST_CASE("marked_flag__atomic_updates__then_consistent") {
  // Pattern hit counters are bumped by the worker while readers report, and
  // the policy pointer is swapped while readers load it.
  auto p = MarkingPolicy::build(triggers({lit("a"), lit("b")}));
  daemon::PolicyHolder holder(p);
  std::atomic<bool> stop{false};
  std::thread reader([&] {
    while (!stop) {
      auto cur = holder.load();
      REQUIRE(cur != nullptr);
      (void)cur->stats().hits(0);
    }
  });
  std::vector<std::thread> writers;
  for (int t = 0; t < 3; ++t)
    writers.emplace_back([&] {
      for (int i = 0; i < 100000; ++i) p->stats().add_hits(static_cast<std::uint32_t>(i & 1), 1);
    });
  for (int i = 0; i < 200; ++i) holder.store(i % 2 ? p : MarkingPolicy::build(triggers({lit("c")})));
  for (auto& w : writers) w.join();
  stop = true;
  reader.join();
  CHECK(p->stats().hits(0) + p->stats().hits(1) == 300000);
  CHECK(p->stats().hits(0) == 150000);
}

TEST_CASE("high_throughput__pattern_matching__then_acceptable_overhead") {
  // Not a wall-clock limit: a ratio against a plain pass over the same
  // events measured in the same process, with a generous bound. The real
  // numbers are in bench/RESULTS.md.
  std::vector<TriggerSpec> ts;
  for (int i = 0; i < 16; ++i) ts.push_back(i % 2 ? lit("trigger-" + std::to_string(i)) : re("err(or)?-" + std::to_string(i) + "\\b"));
  auto p = MarkingPolicy::build(triggers(ts));
  std::vector<std::string> events;
  std::mt19937 rng(3);
  for (int i = 0; i < 20000; ++i)
    events.push_back("GET /api/items/" + std::to_string(rng() % 100000) + " status=200 latency_us=" +
                     std::to_string(rng() % 5000));
  std::vector<daemon::EventText> texts;
  for (const auto& e : events) texts.push_back({"http", e});
  auto scratch = p->matcher()->make_scratch();
  std::vector<daemon::PatternHit> hits;
  auto best_of = [](auto fn) {
    double best = 1e18;
    for (int r = 0; r < 5; ++r) {
      const auto t0 = std::chrono::steady_clock::now();
      fn();
      best = std::min(best, std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count());
    }
    return best;
  };
  std::uint64_t sink = 0;
  const double plain = best_of([&] {
    for (const auto& t : texts)
      for (char c : t.message) sink += static_cast<unsigned char>(c);
  });
  const double matching = best_of([&] {
    hits.clear();
    p->matcher()->match_events(texts, *scratch, hits);
  });
  INFO("plain pass " << plain / texts.size() << " ns/event, matching " << matching / texts.size()
                     << " ns/event (engine " << p->matcher()->engine() << ")" << sink);
  CHECK(hits.empty());
  CHECK(matching < plain * 100);
}

TEST_CASE("memory_usage__continuous_operation__then_bounded") {
  // Thousands of windows through a client's segment with count conditions
  // in play: the daemon's heap does not grow with the number of windows.
  test::TestSegment ts;
  auto cs = ts.attach();
  PolicyConfig pc = triggers({TriggerSpec{"timeout", daemon::PatternKind::literal, 5, 10'000'000'000}, lit("panic")});
  test::DrainHarness h(MarkingPolicy::build(pc));
  test::FakeSink sink;
  std::vector<test::TestEvent> window;
  for (int i = 0; i < 50; ++i) window.push_back({i % 10 == 0 ? "request timeout" : "request ok"});
  auto run = [&](int windows) {
    for (int i = 0; i < windows; ++i) {
      ts.submit_window(0, window);
      cs->drain(sink, h.ctx());
      sink.windows.clear();
    }
  };
  run(200);  // warm up: buffers reach their steady size
  const auto before = mallinfo2().uordblks;
  run(3000);
  const auto after = mallinfo2().uordblks;
  INFO("heap in use before " << before << " after " << after);
  CHECK(after <= before + 64 * 1024);
}

TEST_CASE("count condition: marks only at the N-th match within the span, per client") {
  test::TestSegment ts;
  auto cs = ts.attach();
  PolicyConfig pc = triggers({TriggerSpec{"timeout", daemon::PatternKind::literal, 3, 1'000'000'000}});
  test::DrainHarness h(MarkingPolicy::build(pc));
  test::FakeSink sink;
  // Two timeouts 0.1 s apart: not enough.
  ts.submit_window(0, {{"timeout", 2, 0, "t", 10'000'000'000}, {"ok", 2, 0, "t", 10'100'000'000},
                       {"timeout", 2, 0, "t", 10'100'000'001}});
  cs->drain(sink, h.ctx());
  CHECK(sink.windows.empty());
  // A third one 2 s later: the first two fell out of the 1 s span.
  ts.submit_window(0, {{"timeout", 2, 0, "t", 12'100'000'000}});
  cs->drain(sink, h.ctx());
  CHECK(sink.windows.empty());
  // Two more within the span of the last: the third within 1 s marks.
  ts.submit_window(0, {{"timeout", 2, 0, "t", 12'200'000'000}, {"timeout", 2, 0, "t", 12'300'000'000}});
  cs->drain(sink, h.ctx());
  REQUIRE(sink.windows.size() == 1);
  CHECK(sink.windows[0].meta.marked_count == 1);
  CHECK((sink.windows[0].flags[1] & atf::event_flags::policy_marked) != 0);
  CHECK((sink.windows[0].flags[0] & atf::event_flags::policy_marked) == 0);
}

TEST_CASE("level trigger and field selection decide which events mark") {
  PolicyConfig pc = triggers({lit("db")});
  pc.trigger_field = daemon::PatternField::name;
  pc.trigger_level = 5;  // fatal
  auto p = MarkingPolicy::build(pc);
  CHECK(marks(*p, "anything", "db", 0));
  CHECK_FALSE(marks(*p, "db is slow", "http", 4));
  CHECK(marks(*p, "crash", "http", 5));
}

TEST_CASE("window metadata names every pattern that matched and how often") {
  test::TestSegment ts;
  auto cs = ts.attach();
  test::DrainHarness h(MarkingPolicy::build(triggers({lit("alpha"), lit("beta"), lit("never")})));
  test::FakeSink sink;
  ts.submit_window(0, {{"alpha"}, {"beta beta"}, {"alpha beta"}, {"plain"}});
  cs->drain(sink, h.ctx());
  REQUIRE(sink.windows.size() == 1);
  const auto& m = sink.windows[0].meta;
  REQUIRE(m.patterns.size() == 2);
  CHECK(m.patterns[0] == atf::PatternHit{0, 2});
  CHECK(m.patterns[1] == atf::PatternHit{1, 2});
  CHECK(m.marked_count == 3);
  CHECK(h.policy->stats().hits(0) == 2);
  CHECK(h.policy->stats().last(1).excerpt == "alpha beta");
}

TEST_CASE("reload under load: windows decided with the old policy until the swap, the new one after") {
  test::TestSegment ts;
  auto cs = ts.attach();
  daemon::PolicyHolder holder(MarkingPolicy::build(triggers({lit("old-trigger")})));
  test::FakeSink sink;
  std::atomic<bool> stop{false};
  std::thread reloader([&] {
    for (int i = 0; !stop; ++i)
      holder.store(MarkingPolicy::build(triggers({lit(i % 2 ? "old-trigger" : "new-trigger")})));
  });
  int kept = 0;
  for (int i = 0; i < 300; ++i) {
    test::DrainHarness h(holder.load());
    ts.submit_window(0, {{"old-trigger"}, {"new-trigger"}});
    cs->drain(sink, h.ctx());
    kept += static_cast<int>(sink.windows.size());
    for (const auto& w : sink.windows) {
      REQUIRE(w.meta.patterns.size() == 1);  // one policy per window, never a mix
      CHECK(w.meta.marked_count == 1);
    }
    sink.windows.clear();
  }
  stop = true;
  reloader.join();
  CHECK(kept == 300);
}
