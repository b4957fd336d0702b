// preroll-atf, the real binary, on ATF files written here with the ATF
// writer: what each filter selects, cat's time order across files, the
// Chrome and JSON-lines exports, damaged files and usage errors.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "preroll/atf/reader.hpp"
#include "preroll/atf/writer.hpp"
#include "process.hpp"
#include "text_lines.hpp"

using namespace std::chrono_literals;
namespace fs = std::filesystem;
namespace atf = preroll::atf;
using preroll::test::json_lines;
using preroll::test::lines_of;
using preroll::test::TempDir;

namespace {

namespace flags = atf::event_flags;

// The clock pair of every file here: CLOCK_MONOTONIC kBase is
// 2026-11-25T10:00:00Z, so an event at kBase + ms(500) is at 10:00:00.5Z.
constexpr std::uint64_t kBase = 1'000'000'000'000ULL;
constexpr std::int64_t kBaseWall = 1'795'600'800'000'000'000LL;
constexpr std::uint64_t ms(std::uint64_t n) { return n * 1'000'000; }

struct TestEvent {
  std::uint64_t ts = 0;
  std::uint8_t level = 0;
  std::uint8_t flags = 0;
  std::uint16_t pattern = 0;  // as StoredEvent::pattern: 0 none, n = pattern id n - 1
  std::string name;
  std::string message;
};

struct TestWindow {
  std::uint64_t id = 0;
  std::uint32_t tid = 0;
  std::uint32_t lane = 0;
  atf::KeepReason reason = atf::KeepReason::marked;
  std::vector<TestEvent> events;
};

struct TestFile {
  std::uint32_t pid = 0;
  std::string process;
  std::string policy_json;
  std::vector<TestWindow> windows;
  std::string boot_id = "5b0c1d2e-0000-4000-8000-000000000001";
  std::uint64_t clock_monotonic_ns = kBase;  // the clock pair: one instant on both clocks
  std::int64_t clock_realtime_ns = kBaseWall;
};

bool marked(const TestEvent& e) { return (e.flags & (flags::client_marked | flags::policy_marked)) != 0; }

atf::WindowMeta meta_of(const TestWindow& w) {
  atf::WindowMeta m;
  m.window_id = w.id;
  m.tid = w.tid;
  m.lane = w.lane;
  m.ring_sequence = w.id + 1;
  m.reason = w.reason;
  m.event_count = static_cast<std::uint32_t>(w.events.size());
  m.start_ns = w.events.front().ts;
  m.end_ns = w.events.front().ts;
  std::map<std::uint32_t, std::uint32_t> hits;
  for (const TestEvent& e : w.events) {
    m.start_ns = std::min(m.start_ns, e.ts);
    m.end_ns = std::max(m.end_ns, e.ts);
    if (marked(e)) {
      ++m.marked_count;
      if (m.first_marked_ns == 0) m.first_marked_ns = e.ts;
    }
    if (e.pattern != 0) ++hits[e.pattern - 1u];
  }
  for (const auto& [id, count] : hits) m.patterns.push_back({id, count});
  m.lost_events_before = w.id * 3;
  return m;
}

// Writes `file`; returns the offset where each window ends.
std::vector<std::uint64_t> write_atf(const fs::path& path, const TestFile& file,
                                     atf::Compression compression = atf::Compression::none) {
  atf::FileHeader h;
  h.preroll_version = "0.1.0-test";
  h.host_name = "test-host";
  h.boot_id = file.boot_id;
  h.pid = file.pid;
  h.uid = 1000;
  h.process_name = file.process;
  h.command_line = file.process + " --serve";
  h.process_start_ns = kBase - ms(10'000);
  h.clock_realtime_ns = file.clock_realtime_ns;
  h.clock_monotonic_ns = static_cast<std::int64_t>(file.clock_monotonic_ns);
  h.policy_json = file.policy_json;
  auto writer = atf::Writer::create(path, h, atf::WriterOptions{compression});
  std::vector<std::uint64_t> ends;
  for (const TestWindow& w : file.windows) {
    std::vector<atf::EventView> views;
    for (const TestEvent& e : w.events) views.push_back({e.ts, e.level, 0, e.flags, e.name, e.message, e.pattern});
    writer->append_window(meta_of(w), views);
    ends.push_back(writer->bytes_written());
  }
  writer->close();
  return ends;
}

const std::string kPolicyA =
    R"({"marking":"on","patterns":[{"id":0,"kind":"literal","text":"timeout"},)"
    R"({"id":1,"kind":"regex","text":"fail(ed)?"},{"id":2,"kind":"literal","text":"0"}]})";
// The same pattern "timeout" under another id.
const std::string kPolicyB =
    R"({"marking":"on","patterns":[{"id":0,"kind":"literal","text":"disk"},{"id":1,"kind":"literal","text":"timeout"}]})";

// Windows of two lanes that overlap in time (window 1 starts before window 0
// ends), levels 0..5, both kinds of mark, two patterns, a message that is not
// UTF-8 and an event a nanosecond after a whole second.
TestFile file_alpha() {
  TestFile f{100, "alpha", kPolicyA, {}};
  f.windows.push_back({0, 11, 0, atf::KeepReason::marked,
                       {{kBase + ms(0), 0, 0, 0, "start", "a0"},
                        {kBase + ms(250), 1, 0, 0, "", "a1"},
                        {kBase + ms(500), 2, flags::policy_marked, 1, "net", "a2 timeout"},
                        {kBase + ms(750), 3, flags::client_marked, 0, "ui", "a3"},
                        {kBase + ms(1000) + 1, 4, flags::policy_marked, 2, "disk", "a4 failed"}}});
  f.windows.push_back({1, 12, 1, atf::KeepReason::pre_roll,
                       {{kBase + ms(100), 5, 0, 0, "", "a5"},
                        {kBase + ms(600), 2, flags::policy_marked, 2, "", "a6 fail"},
                        {kBase + ms(900), 3, 0, 0, "x", "a7"},
                        {kBase + ms(1200), 1, 0, 0, "", "a8"}}});
  f.windows.push_back({2, 11, 0, atf::KeepReason::post_roll,
                       {{kBase + ms(1500), 2, flags::client_marked, 0, "", "a9"},
                        {kBase + ms(2000), 0, 0, 0, "", std::string("a10 \xff\xfe", 6)}}});
  return f;
}

// Its window 1 is earlier than its window 0; b4 shares a2's timestamp.
TestFile file_beta() {
  TestFile f{200, "beta-longer-name", kPolicyB, {}};
  f.windows.push_back({0, 21, 0, atf::KeepReason::marked,
                       {{kBase + ms(300), 2, 0, 0, "", "b0"},
                        {kBase + ms(700), 3, flags::policy_marked, 2, "rpc", "b1 timeout"},
                        {kBase + ms(1100), 2, 0, 0, "", "b2"}}});
  f.windows.push_back({1, 22, 1, atf::KeepReason::flush_timeout,
                       {{kBase + ms(50), 1, 0, 0, "", "b3"}, {kBase + ms(500), 2, 0, 0, "", "b4"}}});
  return f;
}

struct ToolRun {
  int code = -1;
  std::string out;
  std::string err;
};

ToolRun run_tool(const TempDir& dir, std::vector<std::string> args) {
  static int runs = 0;
  const int n = runs++;
  args.insert(args.begin(), PREROLL_ATF_PATH);
  preroll::test::Process p(args, {}, dir.path() / ("stdout-" + std::to_string(n)),
                           dir.path() / ("stderr-" + std::to_string(n)));
  const auto status = p.wait(60s);
  REQUIRE(status.has_value());
  return {preroll::test::exit_code(*status), p.out(), p.err()};
}

// "a10" of "a10 \xff\xfe": the tag each test message starts with.
std::string tag_of(const std::string& message) {
  std::size_t n = 0;
  while (n < message.size() && std::isalnum(static_cast<unsigned char>(message[n])) != 0) ++n;
  return message.substr(0, n);
}

std::vector<std::string> tags_of(const std::vector<nlohmann::json>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(tag_of(e.at("message").get<std::string>()));
  return out;
}

struct Row {
  const TestWindow* window;
  const TestEvent* event;
};

// Tags of the events of `f` that `keep` selects, in file order.
template <typename Pred>
std::vector<std::string> expected_tags(const TestFile& f, Pred keep) {
  std::vector<std::string> out;
  for (const TestWindow& w : f.windows) {
    for (const TestEvent& e : w.events) {
      if (keep(Row{&w, &e})) out.push_back(tag_of(e.message));
    }
  }
  return out;
}

struct Files {
  TempDir dir;
  TestFile alpha = file_alpha();
  TestFile beta = file_beta();
  fs::path alpha_path = dir.path() / "alpha.atf";
  fs::path beta_path = dir.path() / "beta.atf";
  std::vector<std::uint64_t> alpha_window_ends;

  Files() {
    alpha_window_ends = write_atf(alpha_path, alpha);
    write_atf(beta_path, beta, atf::Compression::zstd);
  }
};

}  // namespace

TEST_CASE("events: each filter selects exactly the events it names", "[atf-tool]") {
  Files f;
  const std::string file = f.alpha_path.string();
  const auto check = [&](const std::vector<std::string>& filter, auto keep) {
    std::vector<std::string> args = {"events", file, "--json"};
    args.insert(args.end(), filter.begin(), filter.end());
    const ToolRun r = run_tool(f.dir, args);
    INFO("args: " << Catch::Detail::stringify(filter) << "\nstderr: " << r.err);
    REQUIRE(r.code == 0);
    CHECK(tags_of(json_lines(r.out)) == expected_tags(f.alpha, keep));
  };
  const auto at_or_after = [](std::uint64_t t) { return [t](const Row& r) { return r.event->ts >= t; }; };

  SECTION("no filter: every event, in file order") {
    check({}, [](const Row&) { return true; });
    CHECK(expected_tags(f.alpha, [](const Row&) { return true; }).size() == 11);
  }
  SECTION("window: one, a comma list, repeated") {
    check({"--window", "1"}, [](const Row& r) { return r.window->id == 1; });
    check({"--window", "0,2"}, [](const Row& r) { return r.window->id != 1; });
    check({"--window", "0", "--window", "2"}, [](const Row& r) { return r.window->id != 1; });
    check({"--window", "7"}, [](const Row&) { return false; });
  }
  SECTION("tid") {
    check({"--tid", "12"}, [](const Row& r) { return r.window->tid == 12; });
    check({"--tid", "11,12"}, [](const Row&) { return true; });
  }
  SECTION("since and until as UTC times, both ends inclusive, to the nanosecond") {
    check({"--since", "2026-11-25T10:00:00.5Z"}, at_or_after(kBase + ms(500)));
    check({"--until", "2026-11-25T10:00:01Z"}, [](const Row& r) { return r.event->ts <= kBase + ms(1000); });
    check({"--until", "2026-11-25T10:00:01.000000001Z"},
          [](const Row& r) { return r.event->ts <= kBase + ms(1000) + 1; });
    check({"--since", "2026-11-25T11:00:00.25+01:00", "--until", "2026-11-25T10:00:00.75Z"},
          [](const Row& r) { return r.event->ts >= kBase + ms(250) && r.event->ts <= kBase + ms(750); });
  }
  SECTION("since and until as CLOCK_MONOTONIC nanoseconds") {
    check({"--raw", "--since", std::to_string(kBase + ms(600)), "--until", std::to_string(kBase + ms(1200))},
          [](const Row& r) { return r.event->ts >= kBase + ms(600) && r.event->ts <= kBase + ms(1200); });
  }
  SECTION("minimum level by name, in any case, or by number") {
    const auto warn_or_above = [](const Row& r) { return r.event->level >= 3; };
    check({"--level", "warn"}, warn_or_above);
    check({"--level", "WARN"}, warn_or_above);
    check({"--level", "3"}, warn_or_above);
    check({"--level", "fatal"}, [](const Row& r) { return r.event->level == 5; });
  }
  SECTION("pattern by id or by its text in the policy") {
    const auto by_id = [](std::uint16_t id) { return [id](const Row& r) { return r.event->pattern == id + 1; }; };
    check({"--pattern", "timeout"}, by_id(0));
    check({"--pattern", "fail(ed)?"}, by_id(1));
    check({"--pattern", "1"}, by_id(1));
    // A pattern whose text is a number is found by its text first.
    check({"--pattern", "0"}, by_id(2));
    check({"--pattern", "timeout", "--pattern", "1"}, [](const Row& r) { return r.event->pattern != 0; });
  }
  SECTION("marked: by the client or by the policy") {
    check({"--marked"}, [](const Row& r) { return marked(*r.event); });
  }
  SECTION("filters combine") {
    check({"--tid", "11", "--level", "info", "--marked"},
          [](const Row& r) { return r.window->tid == 11 && r.event->level >= 2 && marked(*r.event); });
  }
}

TEST_CASE("events: text lines are aligned and escape what is not printable", "[atf-tool]") {
  Files f;
  const ToolRun r = run_tool(f.dir, {"events", f.alpha_path.string()});
  REQUIRE(r.code == 0);
  const auto lines = lines_of(r.out);
  REQUIRE(lines.size() == 11);
  CHECK(lines[0].rfind("2026-11-25T10:00:00.000000000Z", 0) == 0);
  CHECK(lines[4].rfind("2026-11-25T10:00:01.000000001Z", 0) == 0);
  // The tid/lane column and the marker sit at the same place on every line.
  const std::size_t slash = lines[0].find("11/0");
  REQUIRE(slash != std::string::npos);
  for (const std::string& line : lines) {
    INFO(line);
    CHECK(line.find('/') == slash + 2);
  }
  CHECK(lines[3].find("*   ui: a3") != std::string::npos);
  CHECK(lines.back().find("a10 \\xff\\xfe") != std::string::npos);

  const ToolRun raw = run_tool(f.dir, {"events", f.alpha_path.string(), "--raw", "--window", "0"});
  REQUIRE(raw.code == 0);
  CHECK(lines_of(raw.out).at(0).find(std::to_string(kBase)) != std::string::npos);
}

TEST_CASE("cat: events of two files interleave in time order, each line saying its process", "[atf-tool]") {
  Files f;
  // Ties (a2, b4) go in command-line order of the files.
  const std::vector<std::string> order = {"a0", "b3", "a5", "a1", "b0", "a2", "b4", "a6",
                                          "b1", "a3", "a7", "a4", "b2", "a8", "a9", "a10"};

  const ToolRun json = run_tool(f.dir, {"cat", f.alpha_path.string(), f.beta_path.string(), "--json"});
  INFO(json.err);
  REQUIRE(json.code == 0);
  const auto events = json_lines(json.out);
  CHECK(tags_of(events) == order);
  for (const auto& e : events) {
    const bool from_alpha = tag_of(e.at("message").get<std::string>())[0] == 'a';
    CHECK(e.at("pid") == (from_alpha ? 100 : 200));
    CHECK(e.at("process") == (from_alpha ? "alpha" : "beta-longer-name"));
    CHECK(e.at("file") == (from_alpha ? f.alpha_path : f.beta_path).string());
  }

  const ToolRun text = run_tool(f.dir, {"cat", f.alpha_path.string(), f.beta_path.string()});
  REQUIRE(text.code == 0);
  const auto lines = lines_of(text.out);
  REQUIRE(lines.size() == order.size());
  const std::size_t level_column = lines[0].find("trace");  // a0, from alpha[100]
  for (std::size_t i = 0; i < lines.size(); ++i) {
    INFO(lines[i]);
    const bool from_alpha = order[i][0] == 'a';
    CHECK(lines[i].find(from_alpha ? "  alpha[100]  " : "  beta-longer-name[200]  ") == 30);
    CHECK(lines[i].find(order[i], 30) != std::string::npos);
    // The level column starts at the same place for both processes.
    CHECK(std::isalpha(static_cast<unsigned char>(lines[i][level_column])) != 0);
    CHECK(lines[i][level_column - 1] == ' ');
  }
}

TEST_CASE("cat: a pattern text selects it under each file's own id", "[atf-tool]") {
  Files f;
  const ToolRun r = run_tool(f.dir, {"cat", f.alpha_path.string(), f.beta_path.string(), "--json", "--pattern", "timeout"});
  REQUIRE(r.code == 0);
  const auto events = json_lines(r.out);
  CHECK(tags_of(events) == std::vector<std::string>{"a2", "b1"});
  for (const auto& e : events) CHECK(e.at("pattern_text") == "timeout");
  CHECK(events.at(0).at("pattern") == 0);
  CHECK(events.at(1).at("pattern") == 1);

  const ToolRun window = run_tool(f.dir, {"cat", f.alpha_path.string(), f.beta_path.string(), "--json", "--window", "1",
                                          "--since", "2026-11-25T10:00:00.5Z"});
  REQUIRE(window.code == 0);
  CHECK(tags_of(json_lines(window.out)) == std::vector<std::string>{"b4", "a6", "a7", "a8"});
}

TEST_CASE("export chrome: a trace with processes, thread tracks, window spans and marked instants", "[atf-tool]") {
  Files f;
  const fs::path out = f.dir.path() / "trace.json";
  const ToolRun r = run_tool(f.dir, {"export", "--format", "chrome", f.alpha_path.string(), f.beta_path.string(), "-o",
                                     out.string()});
  INFO(r.err);
  REQUIRE(r.code == 0);
  const std::string text = preroll::test::read_file(out);
  const auto trace = nlohmann::json::parse(text);
  REQUIRE(trace.is_object());
  CHECK(trace.at("displayTimeUnit") == "ns");
  const auto& events = trace.at("traceEvents");
  REQUIRE(events.is_array());

  std::map<std::string, int> by_phase;
  std::map<std::string, std::string> process_names;  // pid -> name
  std::set<std::pair<int, int>> named_threads, instant_threads;
  int marked_instants = 0;
  for (const auto& e : events) {
    const std::string ph = e.at("ph");
    ++by_phase[ph];
    if (ph == "M" && e.at("name") == "process_name") {
      process_names[e.at("pid").dump()] = e.at("args").at("name").get<std::string>();
    }
    if (ph == "M" && e.at("name") == "thread_name") {
      named_threads.insert({e.at("pid").get<int>(), e.at("tid").get<int>()});
    }
    if (ph == "i") {
      CHECK(e.at("s") == "t");
      instant_threads.insert({e.at("pid").get<int>(), e.at("tid").get<int>()});
      const bool is_marked = e.at("args").at("marked");
      CHECK((e.at("cat") == "marked") == is_marked);
      CHECK(e.contains("cname") == is_marked);
      if (is_marked) ++marked_instants;
      for (const char* key : {"message", "level", "flags"}) CHECK(e.at("args").contains(key));
    }
    if (ph == "X") {
      CHECK(e.at("name").get<std::string>().rfind("window ", 0) == 0);
      for (const char* key : {"reason", "event_count", "marked_count", "lost_events_before", "patterns"}) {
        CHECK(e.at("args").contains(key));
      }
    }
  }
  CHECK(by_phase["i"] == 16);
  CHECK(by_phase["X"] == 5);
  CHECK(by_phase["M"] == 2 + 4);
  CHECK(marked_instants == 6);
  CHECK(process_names == std::map<std::string, std::string>{{"100", "alpha"}, {"200", "beta-longer-name"}});
  const std::set<std::pair<int, int>> threads = {{100, 11}, {100, 12}, {200, 21}, {200, 22}};
  CHECK(named_threads == threads);
  CHECK(instant_threads == threads);

  // ts in microseconds keeps the nanosecond: a4 is 1 ns after a whole second.
  CHECK(text.find(R"("ts":1001000000.001,)") != std::string::npos);
  const auto a4 = std::find_if(events.begin(), events.end(), [](const auto& e) {
    return e.at("ph") == "i" && e.at("args").at("message") == "a4 failed";
  });
  REQUIRE(a4 != events.end());
  CHECK(a4->at("name") == "disk");
  CHECK(a4->at("args").at("pattern") == 1);
  CHECK(a4->at("args").at("pattern_text") == "fail(ed)?");
  // Window 0 of alpha: a0 .. a4, 1000.000001 ms.
  const auto w0 = std::find_if(events.begin(), events.end(), [](const auto& e) {
    return e.at("ph") == "X" && e.at("pid") == 100 && e.at("name") == "window 0 (marked)";
  });
  REQUIRE(w0 != events.end());
  CHECK(w0->at("tid") == 11);
  CHECK(w0->at("args").at("event_count") == 5);
  CHECK(w0->at("args").at("marked_count") == 3);
  CHECK(text.find(R"("ts":1000000000.000,"dur":1000000.001,)") != std::string::npos);
  // An event without a name is named by its level.
  const auto a1 = std::find_if(events.begin(), events.end(),
                               [](const auto& e) { return e.at("ph") == "i" && e.at("args").at("message") == "a1"; });
  REQUIRE(a1 != events.end());
  CHECK(a1->at("name") == "debug");

  SECTION("-o - writes the same trace to stdout") {
    const ToolRun stdout_run =
        run_tool(f.dir, {"export", "--format", "chrome", f.alpha_path.string(), f.beta_path.string(), "-o", "-"});
    REQUIRE(stdout_run.code == 0);
    CHECK(stdout_run.out == text);
  }
  SECTION("filters select instants, and --window the spans") {
    const ToolRun marked = run_tool(f.dir, {"export", "--format", "chrome", f.alpha_path.string(), "--marked",
                                            "--window", "0", "-o", "-"});
    REQUIRE(marked.code == 0);
    const auto filtered = nlohmann::json::parse(marked.out).at("traceEvents");
    CHECK(std::count_if(filtered.begin(), filtered.end(), [](const auto& e) { return e.at("ph") == "i"; }) == 3);
    CHECK(std::count_if(filtered.begin(), filtered.end(), [](const auto& e) { return e.at("ph") == "X"; }) == 1);
  }
}

TEST_CASE("files of different boots are placed by wall-clock time and a reused pid stays apart", "[atf-tool]") {
  Files f;
  // Another boot, where CLOCK_MONOTONIC 500 s was 10:00:00.65Z, and the same
  // pid as alpha.
  TestFile gamma{100, "gamma", kPolicyA, {}, "another-boot", 500'000'000'000ULL,
                 kBaseWall + static_cast<std::int64_t>(ms(650))};
  gamma.windows.push_back({0, 31, 0, atf::KeepReason::marked, {{gamma.clock_monotonic_ns, 2, 0, 0, "", "g0"}}});
  const fs::path gamma_path = f.dir.path() / "gamma.atf";
  write_atf(gamma_path, gamma);

  const ToolRun cat = run_tool(f.dir, {"cat", f.alpha_path.string(), gamma_path.string(), "--json"});
  REQUIRE(cat.code == 0);
  CHECK(tags_of(json_lines(cat.out)) ==
        std::vector<std::string>{"a0", "a5", "a1", "a2", "a6", "g0", "a3", "a7", "a4", "a8", "a9", "a10"});
  CHECK(cat.err.find("different boots") != std::string::npos);

  const ToolRun chrome =
      run_tool(f.dir, {"export", "--format", "chrome", f.alpha_path.string(), gamma_path.string(), "-o", "-"});
  REQUIRE(chrome.code == 0);
  const auto trace = nlohmann::json::parse(chrome.out);
  CHECK(trace.at("otherData").at("clock") == "CLOCK_REALTIME");
  const auto& events = trace.at("traceEvents");
  const auto g0 = std::find_if(events.begin(), events.end(),
                               [](const auto& e) { return e.at("ph") == "i" && e.at("args").at("message") == "g0"; });
  REQUIRE(g0 != events.end());
  CHECK(g0->at("pid") != 100);
  CHECK(chrome.out.find(R"("ts":1795600800650000.000,)") != std::string::npos);
  const auto gamma_name = std::find_if(events.begin(), events.end(), [&](const auto& e) {
    return e.at("ph") == "M" && e.at("name") == "process_name" && e.at("pid") == g0->at("pid");
  });
  REQUIRE(gamma_name != events.end());
  CHECK(gamma_name->at("args").at("name") == "gamma (pid 100)");
}

TEST_CASE("export jsonl: one parseable line per event, with its process, even for bytes that are not UTF-8",
          "[atf-tool]") {
  Files f;
  const fs::path out = f.dir.path() / "events.jsonl";
  const ToolRun r =
      run_tool(f.dir, {"export", "--format", "jsonl", f.alpha_path.string(), f.beta_path.string(), "-o", out.string()});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(r.out.empty());
  const auto lines = lines_of(preroll::test::read_file(out));
  REQUIRE(lines.size() == 16);
  std::uint64_t previous = 0;
  for (const std::string& line : lines) {
    INFO(line);
    nlohmann::json e;
    REQUIRE_NOTHROW(e = nlohmann::json::parse(line));
    for (const char* key : {"file", "pid", "process", "window", "tid", "ts_ns", "time", "level", "marked", "message"}) {
      CHECK(e.contains(key));
    }
    CHECK(e.at("ts_ns").get<std::uint64_t>() >= previous);
    previous = e.at("ts_ns").get<std::uint64_t>();
  }
  const auto a10 = nlohmann::json::parse(lines.back());
  CHECK(a10.at("message") == "a10 \xef\xbf\xbd\xef\xbf\xbd");  // U+FFFD twice
  CHECK(a10.at("message_hex") == "61313020fffe");
}

TEST_CASE("a truncated file: what is whole is printed, the stop goes to stderr, exit 1", "[atf-tool]") {
  Files f;
  // Cut inside the last window: windows 0 and 1 (9 events) stay whole.
  const fs::path cut = f.dir.path() / "cut.atf";
  fs::copy_file(f.alpha_path, cut);
  fs::resize_file(cut, f.alpha_window_ends.at(2) - 20);

  const ToolRun events = run_tool(f.dir, {"events", cut.string(), "--json"});
  CHECK(events.code == 1);
  CHECK(tags_of(json_lines(events.out)) == expected_tags(f.alpha, [](const Row& r) { return r.window->id < 2; }));
  CHECK(events.err.find("truncated") != std::string::npos);
  CHECK(events.err.find(std::to_string(f.alpha_window_ends.at(1))) != std::string::npos);

  const ToolRun cat = run_tool(f.dir, {"cat", cut.string(), f.beta_path.string(), "--json"});
  CHECK(cat.code == 1);
  CHECK(json_lines(cat.out).size() == 9 + 5);
  CHECK(cat.err.find("truncated") != std::string::npos);

  const ToolRun chrome = run_tool(f.dir, {"export", "--format", "chrome", cut.string(), "-o", "-"});
  CHECK(chrome.code == 1);
  const auto trace = nlohmann::json::parse(chrome.out).at("traceEvents");
  CHECK(std::count_if(trace.begin(), trace.end(), [](const auto& e) { return e.at("ph") == "i"; }) == 9);

  const ToolRun verify = run_tool(f.dir, {"verify", cut.string()});
  CHECK(verify.code == 1);
  CHECK(verify.out.find("BAD: truncated") != std::string::npos);
  CHECK(verify.out.find("2 windows, 9 events") != std::string::npos);
  CHECK(run_tool(f.dir, {"verify", f.alpha_path.string()}).code == 0);

  const ToolRun missing = run_tool(f.dir, {"cat", (f.dir.path() / "nope.atf").string(), f.beta_path.string()});
  CHECK(missing.code == 1);
  CHECK(lines_of(missing.out).size() == 5);
  CHECK(missing.err.find("nope.atf") != std::string::npos);
}

TEST_CASE("bad usage exits 2 with a message", "[atf-tool]") {
  Files f;
  const std::string a = f.alpha_path.string();
  const std::vector<std::vector<std::string>> cases = {
      {},
      {"frobnicate", a},
      {"events"},
      {"events", a, a},
      {"cat"},
      {"events", a, "--bogus"},
      {"events", a, "--level", "loud"},
      {"events", a, "--since", "yesterday"},
      {"events", a, "--since", "2026-11-25T10:00:00"},  // no zone
      {"events", a, "--since", "2026-02-30T10:00:00Z"},
      {"events", a, "--since", "2026-11-25T10:00:01Z", "--until", "2026-11-25T10:00:00Z"},
      {"events", a, "--window", "x"},
      {"events", a, "--tid", "1,,2"},
      {"events", a, "--pattern", "no-such-pattern"},
      {"events", a, "--pattern", "9"},
      {"export", a, "-o", "-"},
      {"export", "--format", "pdf", a, "-o", "-"},
      {"export", "--format", "chrome", a},
      {"export", "--format", "chrome", a, "-o", a},
  };
  for (const auto& args : cases) {
    const ToolRun r = run_tool(f.dir, args);
    INFO("args: " << Catch::Detail::stringify(args) << "\nstdout: " << r.out);
    CHECK(r.code == 2);
    CHECK_FALSE(r.err.empty());
    CHECK(r.out.empty());
  }
  // The input survived the attempt to export over it.
  CHECK(run_tool(f.dir, {"verify", a}).code == 0);
}
