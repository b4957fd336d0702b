// preroll-run's line splitter: lines out of arbitrary read chunks, long
// lines in pieces of at most the limit, CRLF, a partial last line, bytes.
#include <catch2/catch.hpp>
#include <random>
#include <string>
#include <vector>

#include "line_splitter.hpp"

using preroll::run::LineSplitter;
using preroll::run::Piece;

namespace {

struct Out {
  std::string bytes;
  bool continues;
  bool operator==(const Out& o) const { return bytes == o.bytes && continues == o.continues; }
};

std::ostream& operator<<(std::ostream& os, const Out& o) {
  return os << (o.continues ? "+" : "") << '"' << o.bytes << '"';
}

// Feeds `input` in chunks of `chunk` bytes (0: all at once), then finishes.
std::vector<Out> split(const std::string& input, std::size_t max, std::size_t chunk = 0) {
  LineSplitter s(max);
  std::vector<Out> out;
  const auto sink = [&](const Piece& p) {
    REQUIRE(p.bytes.size() <= max);
    out.push_back({std::string(p.bytes), p.continues_line});
  };
  if (chunk == 0) chunk = input.size() + 1;
  for (std::size_t i = 0; i < input.size(); i += chunk) {
    s.feed(std::string_view(input).substr(i, chunk), sink);
    REQUIRE(s.pending() <= max);  // never more than one piece held
  }
  s.finish(sink);
  return out;
}

// The reference: split on '\n', drop one '\r' before it, cut each line into
// pieces of `max`, a partial last line as it is.
std::vector<Out> reference(const std::string& input, std::size_t max) {
  std::vector<Out> out;
  std::size_t start = 0;
  while (start < input.size()) {
    const auto nl = input.find('\n', start);
    std::string line = input.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
    if (nl != std::string::npos && !line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) out.push_back({"", false});
    for (std::size_t i = 0; i < line.size(); i += max) out.push_back({line.substr(i, max), i != 0});
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  return out;
}

}  // namespace

TEST_CASE("line splitter: one event per line, newline and one CR before it removed") {
  CHECK(split("a\nbb\r\n\nccc\r\r\n", 16) ==
        std::vector<Out>{{"a", false}, {"bb", false}, {"", false}, {"ccc\r", false}});
  CHECK(split("", 16).empty());
  CHECK(split("\n", 16) == std::vector<Out>{{"", false}});
  // A CR elsewhere is a byte like any other.
  CHECK(split("x\ry\n\r", 16) == std::vector<Out>{{"x\ry", false}, {"\r", false}});
}

TEST_CASE("line splitter: a partial last line is handed out at the end, not before") {
  LineSplitter s(16);
  std::vector<std::string> out;
  const auto sink = [&](const Piece& p) { out.emplace_back(p.bytes); };
  s.feed("one\ntw", sink);
  CHECK(out == std::vector<std::string>{"one"});
  s.feed("o", sink);
  CHECK(out.size() == 1);
  s.finish(sink);
  CHECK(out == std::vector<std::string>{"one", "two"});
  s.finish(sink);  // nothing more
  CHECK(out.size() == 2);
}

TEST_CASE("line splitter: long lines become consecutive pieces of at most the limit") {
  CHECK(split("abcdefghij\n", 4) == std::vector<Out>{{"abcd", false}, {"efgh", true}, {"ij", true}});
  // Exactly the limit, twice the limit: no empty piece after the last.
  CHECK(split("abcd\n", 4) == std::vector<Out>{{"abcd", false}});
  CHECK(split("abcdefgh\nz\n", 4) == std::vector<Out>{{"abcd", false}, {"efgh", true}, {"z", false}});
  // A CRLF right after a full piece: the CR is the line ending, not data.
  CHECK(split("abcd\r\n", 4) == std::vector<Out>{{"abcd", false}});
  CHECK(split("abcdefgh\r\n", 4, 1) == std::vector<Out>{{"abcd", false}, {"efgh", true}});
  // A CR at the end of a full piece followed by more of the line is data.
  CHECK(split("abc\rdef\n", 4, 1) == std::vector<Out>{{"abc\r", false}, {"def", true}});
  // Without a newline at the end of the stream.
  CHECK(split("abcdefghi", 4, 3) == std::vector<Out>{{"abcd", false}, {"efgh", true}, {"i", true}});
  // A limit of one byte.
  CHECK(split("ab\n\nc", 1) == std::vector<Out>{{"a", false}, {"b", true}, {"", false}, {"c", false}});
}

TEST_CASE("line splitter: a line of megabytes is never held beyond the limit") {
  const std::string line(3 * 1024 * 1024 + 17, 'x');
  LineSplitter s(4096);
  std::size_t pieces = 0, bytes = 0;
  const auto sink = [&](const Piece& p) {
    CHECK(p.bytes.size() <= 4096);
    CHECK(p.continues_line == (pieces != 0));
    ++pieces;
    bytes += p.bytes.size();
  };
  for (std::size_t i = 0; i < line.size(); i += 65536) {
    s.feed(std::string_view(line).substr(i, 65536), sink);
    CHECK(s.pending() <= 4096);
  }
  s.feed("\n", sink);
  CHECK(bytes == line.size());
  CHECK(pieces == (line.size() + 4095) / 4096);
}

TEST_CASE("line splitter: binary bytes, NULs included, come out as they went in, whatever the chunking") {
  std::mt19937 rng(12345);
  std::string input;
  for (int i = 0; i < 20000; ++i) {
    // Mostly bytes, with newlines, CRs and NULs at a useful rate.
    const unsigned r = rng() % 64;
    input += r == 0 ? '\n' : r == 1 ? '\r' : r == 2 ? '\0' : static_cast<char>(rng() & 0xFF);
  }
  input += std::string("a\0b", 3);  // a partial last line with a NUL
  for (const std::size_t max : {1u, 7u, 64u, 4096u})
    for (const std::size_t chunk : {0u, 1u, 3u, 100u, 4096u}) {
      INFO("max " << max << " chunk " << chunk);
      CHECK(split(input, max, chunk) == reference(input, max));
    }
}
