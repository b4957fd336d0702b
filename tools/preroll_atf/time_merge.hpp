// The events of several files as one time line (cat, export --format jsonl).
//
// A file is not in time order: each window is one lane's run of events, and
// windows of different lanes overlap, a pre-roll window is written after it
// was held back, and so on. The merge therefore reads each file twice. The
// first pass only notes, per window, its earliest selected event. The second
// reads windows again, in file order, and prints an event once no window
// still unread, in any file, can hold an earlier one. Only windows overlapping
// the printing point are held in memory, which in practice is a few per
// lane, not the file.
#pragma once

#include <functional>

#include "input_files.hpp"

namespace preroll::atf_tool {

using EventSink = std::function<void(const SourceFile& file, const atf::WindowMeta& window,
                                     const atf::StoredEvent& event)>;

// Calls `emit` for every event that its file's filter selects, ordered by
// (time line of inputs.time_base, file, window, event); sets each file's
// status. A file being appended to is read up to where the first pass ended.
void merge_in_time_order(Inputs& inputs, const EventSink& emit);

}  // namespace preroll::atf_tool
