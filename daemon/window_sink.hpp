// Where persisted windows go. The daemon writes ATF files (AtfSink); tests
// plug in a sink that captures windows in memory.
#pragma once

#include <span>

#include "preroll/atf/types.hpp"

namespace preroll::daemon {

class WindowSink {
 public:
  virtual ~WindowSink() = default;
  // Persists one window. Returns false when it could not be written (the
  // sink has reported why); the window is then counted as failed.
  virtual bool persist(const atf::WindowMeta& meta, std::span<const atf::EventView> events) = 0;
};

}  // namespace preroll::daemon
