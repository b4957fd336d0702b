// One pattern compiled with PCRE2 (JIT when the platform has it): the exact
// matcher every other path answers to. Internal to preroll_matching.
#pragma once

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace preroll::daemon::matching_detail {

// Per-thread PCRE2 state: match data (one ovector pair: we only ask "does it
// match"), a match context carrying the match limit and a JIT stack.
class Pcre2Scratch {
 public:
  explicit Pcre2Scratch(std::uint32_t match_limit);  // throws std::bad_alloc
  ~Pcre2Scratch();
  Pcre2Scratch(const Pcre2Scratch&) = delete;
  Pcre2Scratch& operator=(const Pcre2Scratch&) = delete;

  pcre2_match_data* data = nullptr;
  pcre2_match_context* context = nullptr;
  pcre2_jit_stack* jit_stack = nullptr;
  std::uint64_t errors = 0;  // attempts ended by a limit or another PCRE2 error
};

struct Pcre2CompileError {
  std::string message;
  std::size_t offset = 0;
};

class Pcre2Pattern {
 public:
  // A literal: matched byte for byte (memmem when case-sensitive, PCRE2
  // with PCRE2_LITERAL | PCRE2_CASELESS otherwise). When PCRE2 refuses it
  // (a caseless one too large to compile) returns an empty pattern and fills
  // `error`. Throws std::bad_alloc.
  static Pcre2Pattern literal(std::string_view text, bool ignore_case, Pcre2CompileError& error);
  // A regex; on a syntax error returns an empty pattern and fills `error`.
  // Throws std::bad_alloc.
  static Pcre2Pattern regex(std::string_view text, bool ignore_case, Pcre2CompileError& error);

  Pcre2Pattern() = default;
  [[nodiscard]] bool valid() const noexcept { return code_ != nullptr || memmem_; }

  // Whether the pattern matches anywhere in `subject`. Any bytes; never throws.
  // An attempt stopped by a limit counts as no match and in scratch.errors.
  [[nodiscard]] bool matches(std::string_view subject, Pcre2Scratch& scratch) const noexcept;

  enum class Answer : std::uint8_t { no, yes, error };
  // The same with the error apart (not counted): for a combined prefilter
  // whose error means "ask each member".
  [[nodiscard]] Answer test(std::string_view subject, Pcre2Scratch& scratch) const noexcept;

 private:
  struct CodeFree {
    void operator()(pcre2_code* c) const noexcept { pcre2_code_free(c); }
  };
  std::unique_ptr<pcre2_code, CodeFree> code_;
  bool jit_ = false;
  bool memmem_ = false;  // case-sensitive literal: memmem on literal_
  std::string literal_;
};

}  // namespace preroll::daemon::matching_detail
