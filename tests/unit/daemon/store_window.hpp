// A window for the file store's tests: `n` events of `size` message bytes,
// kept for a mark.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "preroll/atf/types.hpp"

namespace preroll::test {

struct StoreWindow {
  atf::WindowMeta meta;
  std::string text;
  std::vector<atf::EventView> events;  // views of `text`: not copyable
  StoreWindow(std::uint32_t n, std::size_t size) : text(size, 'x') {
    for (std::uint32_t i = 0; i < n; ++i) events.push_back({1000u + i, 2, 0, 0, "e", text});
    meta.event_count = n;
    meta.reason = atf::KeepReason::marked;
  }
  StoreWindow(const StoreWindow&) = delete;
  StoreWindow& operator=(const StoreWindow&) = delete;
};

}  // namespace preroll::test
