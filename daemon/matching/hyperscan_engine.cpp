#include "hyperscan_engine.hpp"

#include "matcher_state.hpp"

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace preroll::daemon::matching_detail {
namespace {

void free_error(hs_compile_error_t* err) noexcept {
  if (err != nullptr) hs_free_compile_error(err);
}

// Whether Hyperscan parses and supports the expression with these flags and
// it cannot match the empty string (which Hyperscan refuses without
// HS_FLAG_ALLOWEMPTY, and which would be a hit at every offset anyway).
// hs_expression_info analyses without building a database: cheap.
bool admits(const std::string& expression, unsigned flags) {
  hs_expr_info_t* info = nullptr;
  hs_compile_error_t* err = nullptr;
  const hs_error_t rc = hs_expression_info(expression.c_str(), flags, &info, &err);
  free_error(err);
  const bool ok = rc == HS_SUCCESS && info->min_width > 0;  // success always fills info
  std::free(info);  // allocated with malloc (no hs_set_allocator)
  return ok;
}

enum class Outcome { ok, bad_expression, failed };

}  // namespace

struct HyperscanEngine::FieldScan {
  const HyperscanEngine* engine;
  ScratchState* s;
  std::string_view text;
  Part part;
  std::uint32_t event;
  bool first_only;  // match_any: stop at the first confirmed hit
  bool matched = false;  // first_only: the scan stopped at a confirmed hit
};

struct HyperscanEngine::ChunkScan {
  const HyperscanEngine* engine;
  ScratchState* s;
  std::size_t field = 0;  // where the last hit fell: hits come mostly in offset order
};

std::unique_ptr<HyperscanEngine> HyperscanEngine::build(const std::vector<CompiledPattern>& patterns,
                                                        const MatcherState& state, std::string& note) {
  // GCOVR_EXCL_START: only a CPU without SSSE3 takes this path, and no test machine is one.
  if (hs_valid_platform() != HS_SUCCESS) {
    note = "Hyperscan needs SSSE3, which this CPU lacks";
    return nullptr;
  }
  // GCOVR_EXCL_STOP
  std::unique_ptr<HyperscanEngine> e(new HyperscanEngine(state));
  e->info_.resize(patterns.size());
  for (std::size_t id = 0; id < patterns.size(); ++id) {
    const PatternSpec& spec = patterns[id].spec;
    PatternInfo& p = e->info_[id];
    const unsigned base = spec.ignore_case ? HS_FLAG_CASELESS : 0u;
    if (spec.kind == PatternKind::literal) {
      p = {.in_hs = true,
           .literal = true,
           .chunk_safe = true,
           .length = static_cast<std::uint32_t>(spec.text.size()),  // build() caps it at UINT32_MAX / 4
           .expression = hyperscan_literal(spec.text),
           .flags = base};
      continue;
    }
    // A raw NUL cannot be passed in Hyperscan's NUL-terminated expression
    // (and cannot be escaped blindly: it may follow a backslash).
    if (spec.text.find('\0') != std::string::npos) continue;
    p.expression = spec.text;
    p.chunk_safe = chunk_safe_regex(spec.text);
    if (admits(p.expression, base)) {
      p.in_hs = true;
      p.flags = base;
    } else if (admits(p.expression, base | HS_FLAG_PREFILTER)) {
      p.in_hs = p.prefilter = true;
      p.flags = base | HS_FLAG_PREFILTER;
    }
  }
  if (!e->compile_all(note)) return nullptr;
  return e;
}

bool HyperscanEngine::compile_all(std::string& note) {
  // Compiles one database of `ids`. A failure that names an expression (one
  // hs_expression_info let through, e.g. "Pattern is too large") sets `bad`
  // so the caller demotes it; one that names none ("Resource limit
  // exceeded", out of memory) leaves Hyperscan out.
  const auto compile = [&](const std::vector<std::uint32_t>& ids, unsigned extra, HsDatabase& db,
                           std::uint32_t& bad) -> Outcome {
    db.reset();
    if (ids.empty()) return Outcome::ok;
    std::vector<const char*> expressions;
    std::vector<unsigned> flags;
    for (const std::uint32_t id : ids) {
      expressions.push_back(info_[id].expression.c_str());
      flags.push_back(info_[id].flags | extra);
    }
    hs_database_t* raw = nullptr;
    hs_compile_error_t* err = nullptr;
    const hs_error_t rc = hs_compile_multi(expressions.data(), flags.data(), ids.data(),
                                           static_cast<unsigned>(ids.size()), HS_MODE_BLOCK, nullptr, &raw, &err);
    if (rc == HS_SUCCESS) {
      db.reset(raw);
      return Outcome::ok;
    }
    // A failed compile always comes with an error (a static one when out of
    // memory), whose index is into `ids` or -1 when it names no expression.
    const int index = err->expression;
    note = "Hyperscan: " + std::string(err->message);
    free_error(err);
    if (index < 0) return Outcome::failed;
    bad = ids[static_cast<std::size_t>(index)];
    return Outcome::bad_expression;
  };
  // Exact -> prefilter -> PCRE2 alone.
  const auto demote = [&](std::uint32_t id) {
    PatternInfo& p = info_[id];
    if (!p.literal && !p.prefilter) {
      p.prefilter = true;
      p.flags |= HS_FLAG_PREFILTER;
    } else {
      p.in_hs = false;
    }
  };

  // Each round that ends in a refusal demotes the refused pattern one step
  // (at most two per pattern), so this ends; usually after one round.
  for (;;) {
    std::vector<std::uint32_t> all, chunk, bound;
    for (std::uint32_t id = 0; id < info_.size(); ++id) {
      if (!info_[id].in_hs) continue;
      all.push_back(id);
      (info_[id].chunk_safe ? chunk : bound).push_back(id);
    }
    if (all.empty()) {
      note = "Hyperscan: no pattern it can take";
      return false;
    }
    const struct {
      const std::vector<std::uint32_t>& ids;
      unsigned extra;
      HsDatabase& db;
    } steps[] = {{all, HS_FLAG_SINGLEMATCH, segment_db_},
                 {chunk, HS_FLAG_MULTILINE, chunk_db_},
                 {bound, HS_FLAG_SINGLEMATCH, bound_db_}};
    bool refused = false;
    for (const auto& step : steps) {
      std::uint32_t bad = 0;
      const Outcome r = compile(step.ids, step.extra, step.db, bad);
      if (r == Outcome::ok) continue;
      if (r == Outcome::failed) return false;
      demote(bad);
      refused = true;
      break;
    }
    if (refused) continue;
    chunk_ids_ = std::move(chunk);
    pcre2_only_.clear();
    for (std::uint32_t id = 0; id < info_.size(); ++id)
      if (!info_[id].in_hs) pcre2_only_.push_back(id);
    note.clear();
    return true;
  }
}

MatchPath HyperscanEngine::path(std::uint32_t id) const noexcept {
  const PatternInfo& p = info_[id];
  if (!p.in_hs) return MatchPath::pcre2;
  return p.prefilter ? MatchPath::hyperscan_prefilter : MatchPath::hyperscan_exact;
}

void HyperscanEngine::init_scratch(HyperscanScratch& hs) const {
  // One scratch grown to fit each database. When growing fails for want of
  // memory Hyperscan frees the old one and nulls it; on other errors it is
  // left as it was: either way `scratch` owns what there is.
  std::unique_ptr<hs_scratch_t, HsScratchFree> scratch;
  for (const HsDatabase* db : {&segment_db_, &chunk_db_, &bound_db_}) {
    if (!*db) continue;
    hs_scratch_t* raw = scratch.release();
    const hs_error_t rc = hs_alloc_scratch(db->get(), &raw);
    scratch.reset(raw);
    if (rc != HS_SUCCESS) {
      if (rc == HS_NOMEM) throw std::bad_alloc();
      throw std::runtime_error("hs_alloc_scratch failed: " + std::to_string(rc));
    }
  }
  hs.scratch = std::move(scratch);
  hs.chunk = std::make_unique<char[]>(kChunkBytes);
  hs.chunk_used = 0;
  hs.fields.reserve(1024);
  hs.candidates.reserve(64);
}

// ---- one field at a time -------------------------------------------------

int HyperscanEngine::on_field_match(unsigned id, unsigned long long, unsigned long long, unsigned,
                                    void* ctx) noexcept {
  auto& f = *static_cast<FieldScan*>(ctx);
  const MatcherState& m = f.engine->state_;
  if (!field_allows(m.field[id], f.part)) return 0;
  // Regex hits (exact or prefilter) are PCRE2's to decide; literal hits are exact.
  if (!f.engine->info_[id].literal && !m.pcre[id].matches(f.text, f.s->pcre)) return 0;
  if (f.first_only) {
    f.matched = true;
    return 1;
  }
  try {
    f.s->found.push_back({f.event, id});
  } catch (...) {
    return 1;  // out of memory: the scan ends as failed (not matched), the caller redoes the field
  }
  return 0;
}

bool HyperscanEngine::scan_field(const hs_database_t* db, FieldScan& f) const noexcept {
  if (f.text.empty()) return true;  // Hyperscan patterns never match empty text
  if (f.text.size() > UINT_MAX) return false;
  const hs_error_t rc = hs_scan(db, f.text.data(), static_cast<unsigned>(f.text.size()), 0,
                                f.s->hs.scratch.get(), on_field_match, &f);
  // Stopped early (HS_SCAN_TERMINATED) either at match_any's first confirmed
  // hit or because a hit could not be recorded; any other error scanned nothing.
  return rc == HS_SUCCESS || f.matched;
}

void HyperscanEngine::scan_event(const hs_database_t* db, const EventText& e, std::uint32_t index,
                                 ScratchState& s) const {
  for (const Part part : {Part::name, Part::message}) {
    FieldScan f{this, &s, part == Part::name ? e.name : e.message, part, index, false};
    if (scan_field(db, f)) continue;
    // A Hyperscan error: PCRE2 gives the exact answer for this field.
    ++s.errors;
    for (std::uint32_t id = 0; id < info_.size(); ++id)
      if (info_[id].in_hs && field_allows(state_.field[id], part) && state_.pcre[id].matches(f.text, s.pcre))
        s.found.push_back({index, id});
  }
}

void HyperscanEngine::pcre2_only(const EventText& e, std::uint32_t index, ScratchState& s) const {
  for (const std::uint32_t id : pcre2_only_)
    if (state_.pcre2_matches(id, e, s.pcre)) s.found.push_back({index, id});
}

bool HyperscanEngine::match_any(const EventText& e, ScratchState& s) const noexcept {
  for (const Part part : {Part::name, Part::message}) {
    FieldScan f{this, &s, part == Part::name ? e.name : e.message, part, 0, true};
    if (!scan_field(segment_db_.get(), f)) {
      ++s.errors;
      return state_.pcre2_any(e, s.pcre);
    }
    if (f.matched) return true;
  }
  for (const std::uint32_t id : pcre2_only_)
    if (state_.pcre2_matches(id, e, s.pcre)) return true;
  return false;
}

void HyperscanEngine::match_events_per_event(std::span<const EventText> events, ScratchState& s) const {
  const std::size_t n = std::min<std::size_t>(events.size(), UINT32_MAX);
  for (std::uint32_t i = 0; i < n; ++i) {
    scan_event(segment_db_.get(), events[i], i, s);
    pcre2_only(events[i], i, s);
  }
}

// ---- many fields per scan --------------------------------------------------

int HyperscanEngine::on_chunk_match(unsigned id, unsigned long long, unsigned long long to, unsigned,
                                    void* ctx) noexcept {
  auto& c = *static_cast<ChunkScan*>(ctx);
  const HyperscanEngine& e = *c.engine;
  HyperscanScratch& h = c.s->hs;
  // The field holding the hit's last byte (Hyperscan has no empty matches: to >= 1).
  const unsigned long long last = to - 1;
  // c.field is a valid index (fields is not empty during a scan), and the
  // first field begins at 0, so upper_bound never returns the first field.
  std::size_t k = c.field;
  if (last < h.fields[k].begin || (k + 1 < h.fields.size() && last >= h.fields[k + 1].begin)) {
    const auto it = std::upper_bound(h.fields.begin(), h.fields.end(), last,
                                     [](unsigned long long v, const ChunkField& f) { return v < f.begin; });
    k = static_cast<std::size_t>(it - 1 - h.fields.begin());
    c.field = k;
  }
  const ChunkField& f = h.fields[k];
  if (last >= f.end) return 0;  // ends on a separator: crosses a boundary
  if (!field_allows(e.state_.field[id], f.part)) return 0;
  const PatternInfo& p = e.info_[id];
  if (p.literal && to - p.length < f.begin) return 0;  // starts in an earlier field
  const ChunkCandidate cand{static_cast<std::uint32_t>(k), id};
  if (!h.candidates.empty() && h.candidates.back() == cand) return 0;
  try {
    h.candidates.push_back(cand);
  } catch (...) {
    return 1;  // out of memory: the scan ends as failed, flush_chunk redoes the chunk
  }
  return 0;
}

void HyperscanEngine::flush_chunk(ScratchState& s) const {
  HyperscanScratch& h = s.hs;
  if (h.fields.empty()) return;
  h.candidates.clear();
  ChunkScan c{this, &s};
  const hs_error_t rc = hs_scan(chunk_db_.get(), h.chunk.get(), static_cast<unsigned>(h.chunk_used), 0,
                                h.scratch.get(), on_chunk_match, &c);
  const auto text = [&h](const ChunkField& f) {
    return std::string_view(h.chunk.get() + f.begin, f.end - f.begin);
  };
  if (rc != HS_SUCCESS) {
    // Stopped by a hit that could not be recorded: redo the chunk exactly with PCRE2.
    ++s.errors;
    for (const ChunkField& f : h.fields)
      for (const std::uint32_t id : chunk_ids_)
        if (field_allows(state_.field[id], f.part) && state_.pcre[id].matches(text(f), s.pcre))
          s.found.push_back({f.event, id});
  } else {
    std::sort(h.candidates.begin(), h.candidates.end());
    h.candidates.erase(std::unique(h.candidates.begin(), h.candidates.end()), h.candidates.end());
    for (const ChunkCandidate& cand : h.candidates) {
      const ChunkField& f = h.fields[cand.field];
      if (info_[cand.pattern].literal || state_.pcre[cand.pattern].matches(text(f), s.pcre))
        s.found.push_back({f.event, cand.pattern});
    }
  }
  h.fields.clear();
  h.chunk_used = 0;
}

void HyperscanEngine::match_events_chunked(std::span<const EventText> events, ScratchState& s) const {
  if (!chunk_db_) {
    match_events_per_event(events, s);
    return;
  }
  HyperscanScratch& h = s.hs;
  h.fields.clear();
  h.chunk_used = 0;
  const auto append = [&h](std::string_view text, std::uint32_t event, Part part) {
    if (text.empty()) return;
    const auto begin = static_cast<std::uint32_t>(h.chunk_used);
    std::memcpy(h.chunk.get() + begin, text.data(), text.size());
    const auto end = static_cast<std::uint32_t>(begin + text.size());
    h.chunk[end] = '\n';
    h.chunk_used = end + 1;
    h.fields.push_back({begin, end, event, part});
  };
  const std::size_t n = std::min<std::size_t>(events.size(), UINT32_MAX);
  for (std::uint32_t i = 0; i < n; ++i) {
    const EventText& e = events[i];
    const std::size_t need = e.name.size() + e.message.size() + 2;
    if (need > kChunkBytes) {
      scan_event(segment_db_.get(), e, i, s);
    } else {
      if (h.chunk_used + need > kChunkBytes) flush_chunk(s);
      append(e.name, i, Part::name);
      append(e.message, i, Part::message);
      if (bound_db_) scan_event(bound_db_.get(), e, i, s);
    }
    if (!pcre2_only_.empty()) pcre2_only(e, i, s);
  }
  flush_chunk(s);
}

}  // namespace preroll::daemon::matching_detail
