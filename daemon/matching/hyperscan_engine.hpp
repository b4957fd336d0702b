// The Hyperscan fast path of PatternMatcher. Compiled only when the build
// found libhs (PREROLL_HAVE_HYPERSCAN). Internal to preroll_matching.
//
// Three block-mode databases over the patterns Hyperscan can take:
//
//   segment_db  every such pattern, HS_FLAG_SINGLEMATCH, scanned over one
//               field (name or message) at a time: match_any and the
//               per-event window strategy.
//   chunk_db    the chunk-safe ones (pattern_syntax.hpp), HS_FLAG_MULTILINE,
//               scanned over a chunk of many fields each followed by '\n':
//               the window fast path. A hit is mapped back to its field by
//               offset; one that ends on a separator is dropped, a literal
//               must start inside the field, a regex is confirmed by PCRE2 on
//               that field alone: no hit across a field or event boundary.
//   bound_db    the others (anchors like \A, lookaround...), SINGLEMATCH,
//               one field at a time beside the chunk.
//
// A regex Hyperscan rejects is retried with HS_FLAG_PREFILTER (a superset of
// its matches); one it cannot take even so, one that can match the empty
// string, and one with a raw NUL byte are matched by PCRE2 alone on every
// event. Every regex hit is confirmed by PCRE2; literal hits are exact.
#pragma once

#include "pattern_matcher.hpp"
#include "pattern_syntax.hpp"

#include <hs/hs.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace preroll::daemon::matching_detail {

struct MatcherState;
struct ScratchState;

struct HsDatabaseFree {
  void operator()(hs_database_t* db) const noexcept { hs_free_database(db); }
};
struct HsScratchFree {
  void operator()(hs_scratch_t* s) const noexcept { hs_free_scratch(s); }
};
using HsDatabase = std::unique_ptr<hs_database_t, HsDatabaseFree>;

// One field copied into the chunk: bytes [begin, end), separator at end.
struct ChunkField {
  std::uint32_t begin = 0;
  std::uint32_t end = 0;
  std::uint32_t event = 0;
  Part part = Part::name;
};

// A pattern hit in a chunk field, before confirmation.
struct ChunkCandidate {
  std::uint32_t field = 0;  // index into HyperscanScratch::fields
  std::uint32_t pattern = 0;
  friend auto operator<=>(const ChunkCandidate&, const ChunkCandidate&) = default;
};

struct HyperscanScratch {
  std::unique_ptr<hs_scratch_t, HsScratchFree> scratch;
  std::unique_ptr<char[]> chunk;
  std::size_t chunk_used = 0;
  std::vector<ChunkField> fields;
  std::vector<ChunkCandidate> candidates;
};

class HyperscanEngine {
 public:
  // Bytes of fields (with separators) per chunk scan; see match_events in
  // pattern_matcher.cpp for how it was chosen. An event larger than this is
  // scanned field by field.
  static constexpr std::size_t kChunkBytes = 64 * 1024;

  // Null, with `note` saying why, when Hyperscan cannot serve at all (CPU
  // without SSSE3, a database-wide compile error). Throws std::bad_alloc.
  static std::unique_ptr<HyperscanEngine> build(const std::vector<CompiledPattern>& patterns,
                                                const MatcherState& state, std::string& note);

  [[nodiscard]] MatchPath path(std::uint32_t id) const noexcept;
  // Throws std::bad_alloc, or std::runtime_error on another Hyperscan error.
  void init_scratch(HyperscanScratch& hs) const;

  [[nodiscard]] bool match_any(const EventText& event, ScratchState& s) const noexcept;
  // Both append the hits to s.found, unsorted and possibly repeated.
  void match_events_chunked(std::span<const EventText> events, ScratchState& s) const;
  void match_events_per_event(std::span<const EventText> events, ScratchState& s) const;

 private:
  struct PatternInfo {
    bool in_hs = false;  // false: PCRE2 alone (the pcre2_only_ list)
    bool literal = false;
    bool prefilter = false;
    bool chunk_safe = false;
    std::uint32_t length = 0;  // literal bytes
    std::string expression;    // what Hyperscan compiles
    unsigned flags = 0;        // HS_FLAG_CASELESS / HS_FLAG_PREFILTER
  };
  struct FieldScan;
  struct ChunkScan;

  explicit HyperscanEngine(const MatcherState& state) : state_(state) {}
  bool compile_all(std::string& note);
  static int on_field_match(unsigned id, unsigned long long from, unsigned long long to, unsigned flags,
                            void* ctx) noexcept;
  static int on_chunk_match(unsigned id, unsigned long long from, unsigned long long to, unsigned flags,
                            void* ctx) noexcept;
  bool scan_field(const hs_database_t* db, FieldScan& scan) const noexcept;
  void scan_event(const hs_database_t* db, const EventText& e, std::uint32_t index, ScratchState& s) const;
  void pcre2_only(const EventText& e, std::uint32_t index, ScratchState& s) const;
  void flush_chunk(ScratchState& s) const;

  const MatcherState& state_;
  std::vector<PatternInfo> info_;            // by pattern id
  std::vector<std::uint32_t> pcre2_only_;    // ids Hyperscan does not see
  std::vector<std::uint32_t> chunk_ids_;     // ids in chunk_db_
  HsDatabase segment_db_, chunk_db_, bound_db_;
};

}  // namespace preroll::daemon::matching_detail
