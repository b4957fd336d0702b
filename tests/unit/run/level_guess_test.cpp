// preroll-run's level guesser: the markers programs commonly print.
#include <catch2/catch.hpp>
#include <optional>
#include <string>

#include "level_guess.hpp"
#include "preroll/preroll.h"

using preroll::run::guess_level;
using preroll::run::parse_level_name;

namespace {
int level_of(const std::string& line) { return guess_level(line).value_or(-1); }
}  // namespace

TEST_CASE("level guess: upper-case and capitalised markers as whole words") {
  CHECK(level_of("2024-05-01 12:00:00 ERROR connection refused") == PREROLL_ERROR);
  CHECK(level_of("[ERROR] x") == PREROLL_ERROR);
  CHECK(level_of("ERROR:root:boom") == PREROLL_ERROR);  // Python logging
  CHECK(level_of("tar: Error is not recoverable: exiting now") == PREROLL_ERROR);
  CHECK(level_of("<ERR> disk") == PREROLL_ERROR);
  CHECK(level_of("W: WARN low disk") == PREROLL_WARN);
  CHECK(level_of("WARNING: deprecated") == PREROLL_WARN);
  CHECK(level_of("Warning: x") == PREROLL_WARN);
  CHECK(level_of("FATAL: out of memory") == PREROLL_FATAL);
  CHECK(level_of("CRITICAL disk gone") == PREROLL_FATAL);
  CHECK(level_of("PANIC at the disco") == PREROLL_FATAL);
  CHECK(level_of("DEBUG cache hit") == PREROLL_DEBUG);
  CHECK(level_of("TRACE enter f()") == PREROLL_TRACE);
  CHECK(level_of("Traceback (most recent call last):") == PREROLL_ERROR);
}

TEST_CASE("level guess: lower-case markers count only with their colon") {
  CHECK(level_of("fatal: not a git repository") == PREROLL_FATAL);
  CHECK(level_of("main.c:3:1: error: expected ';'") == PREROLL_ERROR);
  CHECK(level_of("main.c:3:1: warning: unused variable") == PREROLL_WARN);
  CHECK(level_of("panic: runtime error: index out of range") == PREROLL_FATAL);
  CHECK(level_of("no error found") == -1);
  CHECK(level_of("0 errors, 0 warnings") == -1);
  CHECK(level_of("don't panic") == -1);
}

TEST_CASE("level guess: parts of longer words and other cases are not markers") {
  CHECK(level_of("ERRORS=0 WARNINGS=0") == -1);
  CHECK(level_of("ERROR_COUNT=0") == -1);
  CHECK(level_of("TERROR") == -1);
  CHECK(level_of("xERROR") == -1);
  CHECK(level_of("error") == -1);
  CHECK(level_of("eRRoR: x") == -1);
  CHECK(level_of("debug: x") == -1);
  CHECK(level_of("all fine") == -1);
  CHECK(level_of("") == -1);
}

TEST_CASE("level guess: the highest marker of the line wins") {
  CHECK(level_of("WARN retrying after ERROR") == PREROLL_ERROR);
  CHECK(level_of("DEBUG then FATAL") == PREROLL_FATAL);
  CHECK(level_of("TRACE DEBUG") == PREROLL_DEBUG);
}

TEST_CASE("level guess: a level key names the level outright") {
  CHECK(level_of("time=1 level=warn msg=\"retrying after ERROR\"") == PREROLL_WARN);
  CHECK(level_of("lvl=eror msg=x") == -1);  // not a level name: no guess from the key
  CHECK(level_of("lvl=error") == PREROLL_ERROR);
  CHECK(level_of(R"({"level":"info","msg":"FATAL is just a word here"})") == PREROLL_INFO);
  CHECK(level_of(R"({"time":1,"level": "Error"})") == PREROLL_ERROR);
  CHECK(level_of("severity: CRITICAL") == PREROLL_FATAL);
  CHECK(level_of("level=DEBUG") == PREROLL_DEBUG);
  CHECK(level_of("loglevel=error") == -1);  // another key
}

TEST_CASE("level guess: glog prefixes at the start of the line") {
  CHECK(level_of("E0612 12:34:56.789012  1234 main.cc:10] boom") == PREROLL_ERROR);
  CHECK(level_of("W0612 12:34:56.789012  1234 main.cc:10] hmm") == PREROLL_WARN);
  CHECK(level_of("F0612 12:34:56.789012  1234 main.cc:10] dead") == PREROLL_FATAL);
  CHECK(level_of("I0612 12:34:56.789012  1234 main.cc:10] ERROR in text") == PREROLL_INFO);
  CHECK(level_of("E06 12") == -1);
  CHECK(level_of("X0612 12:00") == -1);
}

TEST_CASE("level guess: binary bytes are not words and never crash the scanner") {
  CHECK(level_of(std::string("\0ERROR\0", 7)) == PREROLL_ERROR);
  CHECK(level_of(std::string("\xff\xfeWARN\x80", 7)) == PREROLL_WARN);
  std::string all;
  for (int c = 0; c < 256; ++c) all += static_cast<char>(c);
  CHECK(level_of(all) == -1);
  CHECK(level_of("level=") == -1);
  CHECK(level_of("level") == -1);
  CHECK(level_of("\"level\":") == -1);
}

TEST_CASE("level names for the options") {
  CHECK(parse_level_name("trace") == PREROLL_TRACE);
  CHECK(parse_level_name("DEBUG") == PREROLL_DEBUG);
  CHECK(parse_level_name("info") == PREROLL_INFO);
  CHECK(parse_level_name("warning") == PREROLL_WARN);
  CHECK(parse_level_name("Warn") == PREROLL_WARN);
  CHECK(parse_level_name("err") == PREROLL_ERROR);
  CHECK(parse_level_name("fatal") == PREROLL_FATAL);
  CHECK(parse_level_name("critical") == PREROLL_FATAL);
  CHECK_FALSE(parse_level_name("loud").has_value());
  CHECK_FALSE(parse_level_name("").has_value());
}
