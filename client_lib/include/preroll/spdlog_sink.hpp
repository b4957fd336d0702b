// An spdlog sink that records every log call into preroll's rings, so a
// program that already logs with spdlog gets flight-recorder capture by
// adding one sink:
//
//   auto logger = spdlog::default_logger();
//   logger->sinks().push_back(std::make_shared<preroll::spdlog_sink>());
//   logger->set_level(spdlog::level::trace);  // record everything; other sinks keep their own levels
//
// Each record becomes one event: the logger's name as the event name, the
// message payload (unformatted by the sink's pattern: the event has its own
// timestamp, level and thread) as the message, spdlog's level mapped to
// preroll's (critical -> fatal). Nothing is allocated per record.
//
// Thread safety: preroll's emit is lock-free per thread, so the sink takes
// no mutex (null_mutex); a std::mutex would make every thread queue behind
// one lock. Header-only: needs spdlog (1.9 or later) and libpreroll.
#pragma once

#include <spdlog/details/null_mutex.h>
#include <spdlog/sinks/base_sink.h>

#include <string_view>

#include "preroll/preroll.hpp"

namespace preroll {

[[nodiscard]] constexpr Level from_spdlog(spdlog::level::level_enum level) noexcept {
  switch (level) {
    case spdlog::level::trace: return Level::trace;
    case spdlog::level::debug: return Level::debug;
    case spdlog::level::info: return Level::info;
    case spdlog::level::warn: return Level::warn;
    case spdlog::level::err: return Level::error;
    case spdlog::level::critical: return Level::fatal;
    default: return Level::info;
  }
}

template <class Mutex>
class basic_spdlog_sink final : public spdlog::sinks::base_sink<Mutex> {
 public:
  // Records at or above `mark_level` are also marked by the client
  // (preroll_mark), whatever the daemon's policy. Default: none; the
  // daemon's --trigger-level and patterns decide.
  explicit basic_spdlog_sink(spdlog::level::level_enum mark_level = spdlog::level::off) noexcept
      : mark_level_(mark_level) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    const std::string_view name(msg.logger_name.data(), msg.logger_name.size());
    const std::string_view text(msg.payload.data(), msg.payload.size());
    const Level level = from_spdlog(msg.level);
    if (mark_level_ != spdlog::level::off && msg.level >= mark_level_) {
      mark(name, text, level);
    } else {
      emit(level, name, text);
    }
  }
  // logger->flush(): hand the calling thread's partial ring to the daemon.
  void flush_() override { preroll::flush(); }

 private:
  spdlog::level::level_enum mark_level_;
};

using spdlog_sink = basic_spdlog_sink<spdlog::details::null_mutex>;

}  // namespace preroll
