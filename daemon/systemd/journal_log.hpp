// Logging to the journal through stderr. Under systemd, stderr is a stream
// to journald (JOURNAL_STREAM names its device and inode): journald stamps
// each line itself, so prerolld leaves its timestamp out and starts each
// line with the sd-daemon(3) priority prefix ("<3>" error ... "<7>" debug),
// so `journalctl -p warning` and the colours work.
#pragma once

#include <memory>
#include <spdlog/formatter.h>
#include <spdlog/logger.h>

namespace preroll::daemon::systemd {

// True when JOURNAL_STREAM ("DEV:INODE") is set and names `fd` (stderr by
// default): a service whose stderr was redirected elsewhere gets timestamps.
bool is_journal_stream(int fd = 2);

// "<6>info: message": the priority prefix for journald, then the level
// (kept for `journalctl -o cat` readers), then the message.
std::unique_ptr<spdlog::formatter> journal_formatter();

// "<N>" for an spdlog level: trace and debug 7, info 6, warn 4, error 3, critical 2.
const char* journal_priority(spdlog::level::level_enum level) noexcept;

}  // namespace preroll::daemon::systemd
