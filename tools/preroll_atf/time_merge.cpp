#include "time_merge.hpp"

#include <algorithm>
#include <limits>
#include <memory>

namespace preroll::atf_tool {

namespace {

constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();

struct Selected {
  std::int64_t at = 0;  // on the common time line
  const atf::StoredEvent* event = nullptr;
};

// One window of the second pass, holding its selected events in time order.
struct HeldWindow {
  std::size_t file = 0;
  std::uint64_t ordinal = 0;  // position in the file (ids are not trusted to be unique)
  atf::ReadWindow window;
  std::vector<Selected> selected;
  std::size_t next = 0;

  [[nodiscard]] std::int64_t at() const { return selected[next].at; }
};

// Min-heap order; the file and window break ties so output is deterministic.
bool later(const std::unique_ptr<HeldWindow>& a, const std::unique_ptr<HeldWindow>& b) {
  if (a->at() != b->at()) return a->at() > b->at();
  if (a->file != b->file) return a->file > b->file;
  if (a->ordinal != b->ordinal) return a->ordinal > b->ordinal;
  return a->next > b->next;
}

// What the second pass needs to know of a file from the first.
struct FilePlan {
  // earliest[k]: the earliest selected event in windows k.. of the file;
  // kNever when none. One entry more than windows, for "all read".
  std::vector<std::int64_t> earliest;
  std::unique_ptr<atf::Reader> reader;  // the second pass's
  std::uint64_t loaded = 0;

  // Windows left unread hold nothing selected: no need to read them.
  [[nodiscard]] bool done() const { return loaded + 1 >= earliest.size() || earliest[loaded] == kNever; }
  [[nodiscard]] std::int64_t bound() const { return earliest[loaded]; }
};

std::vector<Selected> select(const SourceFile& f, TimeBase base, const atf::ReadWindow& w) {
  std::vector<Selected> out;
  if (!f.filter.selects_window(w.meta)) return out;
  for (const atf::StoredEvent& e : w.events) {
    // kNever means "no event" to the plan; an event stamped there (only a
    // damaged file has one) is moved a nanosecond earlier, not lost.
    if (!f.filter.selects_event(e)) continue;
    out.push_back({std::min(timeline_ns(base, f.header, e.timestamp_ns), kNever - 1), &e});
  }
  // One lane's events are in time order already; stable keeps equal times as written.
  if (!std::is_sorted(out.begin(), out.end(), [](const Selected& a, const Selected& b) { return a.at < b.at; })) {
    std::stable_sort(out.begin(), out.end(), [](const Selected& a, const Selected& b) { return a.at < b.at; });
  }
  return out;
}

FilePlan first_pass(SourceFile& f, TimeBase base) {
  FilePlan plan;
  atf::ReadWindow w;
  while (f.reader->next(w)) {
    const auto selected = select(f, base, w);
    plan.earliest.push_back(selected.empty() ? kNever : selected.front().at);
  }
  f.status = f.reader->status();
  plan.earliest.push_back(kNever);
  for (std::size_t k = plan.earliest.size() - 1; k-- > 0;) {
    plan.earliest[k] = std::min(plan.earliest[k], plan.earliest[k + 1]);
  }
  f.reader.reset();
  return plan;
}

}  // namespace

void merge_in_time_order(Inputs& inputs, const EventSink& emit) {
  std::vector<FilePlan> plans;
  for (SourceFile& f : inputs.files) plans.push_back(first_pass(f, inputs.time_base));
  for (std::size_t i = 0; i < plans.size(); ++i) {
    if (!plans[i].done()) plans[i].reader = atf::Reader::open(inputs.files[i].path);
  }

  std::vector<std::unique_ptr<HeldWindow>> heap;
  while (true) {
    std::size_t next_file = plans.size();
    for (std::size_t i = 0; i < plans.size(); ++i) {
      if (!plans[i].done() && (next_file == plans.size() || plans[i].bound() < plans[next_file].bound())) next_file = i;
    }
    const std::int64_t bound = next_file == plans.size() ? kNever : plans[next_file].bound();

    // Strictly earlier: an unread window starting at `bound` may hold an
    // event that sorts first on the tie-breaks.
    if (!heap.empty() && (heap.front()->at() < bound || next_file == plans.size())) {
      std::pop_heap(heap.begin(), heap.end(), later);
      HeldWindow& held = *heap.back();
      emit(inputs.files[held.file], held.window.meta, *held.selected[held.next].event);
      if (++held.next < held.selected.size()) {
        std::push_heap(heap.begin(), heap.end(), later);
      } else {
        heap.pop_back();
      }
      continue;
    }
    if (next_file == plans.size()) break;

    FilePlan& plan = plans[next_file];
    auto held = std::make_unique<HeldWindow>();
    held->file = next_file;
    held->ordinal = plan.loaded;
    if (!plan.reader->next(held->window)) {
      // The file changed since the first pass; what the second saw is what was printed.
      inputs.files[next_file].status = plan.reader->status();
      plan.earliest.resize(plan.loaded + 1);
      plan.earliest.back() = kNever;
      continue;
    }
    ++plan.loaded;
    held->selected = select(inputs.files[next_file], inputs.time_base, held->window);
    if (held->selected.empty()) continue;
    heap.push_back(std::move(held));
    std::push_heap(heap.begin(), heap.end(), later);
  }
}

}  // namespace preroll::atf_tool
