#include "pcre2_pattern.hpp"

#include <cstring>
#include <new>

namespace preroll::daemon::matching_detail {
namespace {

// PCRE2 rejects a null subject even of length 0 (10.42); empty views may have one.
constexpr char kEmpty[1] = {0};

// No UTF anywhere: subjects are arbitrary bytes, so a pattern may not switch
// UTF or Unicode properties on with (*UTF) / (*UCP) either. Such a pattern
// is a compile error, hence a literal fallback the operator sees.
constexpr std::uint32_t kRegexOptions = PCRE2_NEVER_UTF | PCRE2_NEVER_UCP;

// 32 KiB is PCRE2's default JIT stack; let deep patterns grow it to 1 MiB
// before a match gives up with PCRE2_ERROR_JIT_STACKLIMIT.
constexpr std::size_t kJitStackStart = 32 * 1024;
constexpr std::size_t kJitStackMax = 1024 * 1024;

std::string error_message(int code) {
  PCRE2_UCHAR buf[256];
  const int n = pcre2_get_error_message(code, buf, sizeof buf);
  // Negative only for a code PCRE2 does not know or a message over 255 bytes:
  // the codes come from pcre2_compile, whose messages are all shorter.
  if (n < 0) return "PCRE2 error " + std::to_string(code);  // GCOVR_EXCL_BR_LINE: codes come from pcre2_compile
  return std::string(reinterpret_cast<const char*>(buf), static_cast<std::size_t>(n));
}

}  // namespace

Pcre2Scratch::Pcre2Scratch(std::uint32_t match_limit) {
  data = pcre2_match_data_create(1, nullptr);
  context = pcre2_match_context_create(nullptr);
  jit_stack = pcre2_jit_stack_create(kJitStackStart, kJitStackMax, nullptr);
  // GCOVR_EXCL_START: PCRE2 allocates these with malloc, which a test cannot make fail.
  if (data == nullptr || context == nullptr) {
    pcre2_jit_stack_free(jit_stack);
    pcre2_match_context_free(context);
    pcre2_match_data_free(data);
    throw std::bad_alloc();
  }
  // GCOVR_EXCL_STOP
  pcre2_set_match_limit(context, match_limit);
  // Without a JIT stack (out of memory) jit_stack is null, which makes PCRE2
  // use its 32 KiB default.
  pcre2_jit_stack_assign(context, nullptr, jit_stack);
}

Pcre2Scratch::~Pcre2Scratch() {
  pcre2_jit_stack_free(jit_stack);
  pcre2_match_context_free(context);
  pcre2_match_data_free(data);
}

Pcre2Pattern Pcre2Pattern::literal(std::string_view text, bool ignore_case, Pcre2CompileError& error) {
  Pcre2Pattern p;
  if (!ignore_case) {
    p.memmem_ = true;
    p.literal_.assign(text);
    return p;
  }
  int code = 0;
  PCRE2_SIZE offset = 0;
  p.code_.reset(pcre2_compile(reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(),
                              PCRE2_LITERAL | PCRE2_CASELESS, &code, &offset, nullptr));
  // A literal has no syntax to get wrong, but one of about 32 KiB and more is
  // too large for PCRE2's compiled form (64 KiB). This used to throw
  // std::bad_alloc, reported as out of memory.
  if (!p.code_) {
    error.message = error_message(code);
    error.offset = offset;
    return p;
  }
  p.jit_ = pcre2_jit_compile(p.code_.get(), PCRE2_JIT_COMPLETE) == 0;
  return p;
}

Pcre2Pattern Pcre2Pattern::regex(std::string_view text, bool ignore_case, Pcre2CompileError& error) {
  Pcre2Pattern p;
  int code = 0;
  PCRE2_SIZE offset = 0;
  const std::uint32_t options = kRegexOptions | (ignore_case ? PCRE2_CASELESS : 0u);
  p.code_.reset(
      pcre2_compile(reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(), options, &code, &offset, nullptr));
  if (!p.code_) {
    error.message = error_message(code);
    error.offset = offset;
    return p;
  }
  // JIT may be unavailable (architecture, SELinux execmem): the interpreter
  // then gives the same answers, slower.
  p.jit_ = pcre2_jit_compile(p.code_.get(), PCRE2_JIT_COMPLETE) == 0;
  return p;
}

Pcre2Pattern::Answer Pcre2Pattern::test(std::string_view subject, Pcre2Scratch& scratch) const noexcept {
  const char* s = subject.empty() ? kEmpty : subject.data();
  if (memmem_) return ::memmem(s, subject.size(), literal_.data(), literal_.size()) != nullptr ? Answer::yes : Answer::no;
  if (!code_) return Answer::no;
  const auto* subj = reinterpret_cast<PCRE2_SPTR>(s);
  const int rc = jit_ ? pcre2_jit_match(code_.get(), subj, subject.size(), 0, 0, scratch.data, scratch.context)
                      : pcre2_match(code_.get(), subj, subject.size(), 0, 0, scratch.data, scratch.context);
  if (rc >= 0) return Answer::yes;  // 0: matched, ovector too small for the groups (we want none)
  return rc == PCRE2_ERROR_NOMATCH ? Answer::no : Answer::error;
}

bool Pcre2Pattern::matches(std::string_view subject, Pcre2Scratch& scratch) const noexcept {
  const Answer a = test(subject, scratch);
  if (a == Answer::error) ++scratch.errors;
  return a == Answer::yes;
}

}  // namespace preroll::daemon::matching_detail
