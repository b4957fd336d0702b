// A lock-free latency histogram for the control socket's p50/p99: recorded
// by the persistence worker, read by the io thread. Log-linear buckets (4
// per power of two from 1 µs to ~1 s), so a quantile is known within 19%;
// that is all an operator needs and it costs one relaxed increment.
#pragma once

#include <array>
#include <atomic>
#include <bit>
#include <cstdint>

namespace preroll::daemon {

class LatencyHistogram {
 public:
  static constexpr int kSubBuckets = 4;       // per power of two
  static constexpr int kMinShift = 10;        // first bucket: below 2^10 ns (~1 µs)
  static constexpr int kPowers = 20;          // up to 2^30 ns (~1.07 s)
  static constexpr int kBuckets = kPowers * kSubBuckets + 2;  // + below-min and overflow

  void record(std::uint64_t ns) noexcept {
    buckets_[bucket_of(ns)].fetch_add(1, std::memory_order_relaxed);
    count_.fetch_add(1, std::memory_order_relaxed);
    sum_ns_.fetch_add(ns, std::memory_order_relaxed);
  }

  [[nodiscard]] std::uint64_t count() const noexcept { return count_.load(std::memory_order_relaxed); }
  [[nodiscard]] std::uint64_t sum_ns() const noexcept { return sum_ns_.load(std::memory_order_relaxed); }

  // Upper bound (ns) of the bucket holding quantile q (0..1); 0 when empty.
  // The counts are read one by one while the worker may add: a quantile of
  // a moving histogram, good enough for monitoring.
  [[nodiscard]] std::uint64_t quantile_ns(double q) const noexcept {
    std::array<std::uint64_t, kBuckets> snap{};
    std::uint64_t total = 0;
    for (int i = 0; i < kBuckets; ++i) total += snap[i] = buckets_[i].load(std::memory_order_relaxed);
    if (total == 0) return 0;
    const auto rank = static_cast<std::uint64_t>(q * static_cast<double>(total - 1)) + 1;
    std::uint64_t seen = 0;
    for (int i = 0; i < kBuckets; ++i) {
      seen += snap[i];
      if (seen >= rank) return upper_bound_ns(i);
    }
    return upper_bound_ns(kBuckets - 1);
  }

  static constexpr int bucket_of(std::uint64_t ns) noexcept {
    if (ns < (1ull << kMinShift)) return 0;
    const int power = 63 - std::countl_zero(ns);  // ns in [2^power, 2^(power+1))
    if (power >= kMinShift + kPowers) return kBuckets - 1;
    const int sub = static_cast<int>((ns >> (power - 2)) & 3);  // the two bits after the leading one
    return 1 + (power - kMinShift) * kSubBuckets + sub;
  }

  static constexpr std::uint64_t upper_bound_ns(int bucket) noexcept {
    if (bucket <= 0) return 1ull << kMinShift;
    if (bucket >= kBuckets - 1) return 1ull << (kMinShift + kPowers);
    const int power = kMinShift + (bucket - 1) / kSubBuckets;
    const int sub = (bucket - 1) % kSubBuckets;
    return (1ull << power) + (static_cast<std::uint64_t>(sub + 1) << (power - 2));
  }

 private:
  std::array<std::atomic<std::uint64_t>, kBuckets> buckets_{};
  std::atomic<std::uint64_t> count_{0};
  std::atomic<std::uint64_t> sum_ns_{0};
};

}  // namespace preroll::daemon
