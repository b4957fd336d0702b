// Single-producer single-consumer queue of ring indices, laid out for shared
// memory, in the shape of rigtorp/SPSCQueue: the producer's and consumer's
// positions on separate cache lines, each side keeping a private cached copy
// of the other side's position so the common case touches only its own line.
//
// The shared part (SpscIndexQueue) holds only atomics; each side's private
// state lives in its endpoint (SpscProducer / SpscConsumer), in the memory of
// its own process. Positions are free-running counters of type Pos that wrap
// around; `tail - head` (mod 2^bits) is the fill level. Pos is a template
// parameter so tests can use uint8_t and wrap in a few hundred operations;
// shared memory uses uint32_t only (abi.hpp).
//
// Hostile peers: a consumer may face a producer that writes garbage, and vice
// versa. Endpoints never index outside `slots` (the slot index is masked) and
// report an impossible fill level as `corrupt` instead of trusting it. The
// values popped are untrusted: the caller range-checks them.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace preroll::shm {

template <typename Pos, std::size_t Capacity>
struct SpscIndexQueue {
  static_assert(std::is_unsigned_v<Pos>);
  static_assert(Capacity >= 1 && (Capacity & (Capacity - 1)) == 0, "capacity must be a power of two");
  static_assert(Capacity <= (std::size_t{1} << (sizeof(Pos) * 8 - 1)),
                "capacity must be at most half the position range so fill levels are unambiguous");
  static constexpr std::size_t kCapacity = Capacity;

  // tail: next position to write. Only the producer stores it (release, after
  // writing the slot: publishes the slot to the consumer).
  alignas(64) std::atomic<Pos> tail;
  // head: next position to read. Only the consumer stores it (release, after
  // reading the slot: tells the producer the slot may be overwritten).
  alignas(64) std::atomic<Pos> head;
  // slots: written relaxed by the producer before its tail release, read
  // relaxed by the consumer after its tail acquire. Atomic (not plain) so a
  // hostile peer racing on them is not undefined behaviour in this process.
  alignas(64) std::atomic<std::uint32_t> slots[Capacity];
};

enum class QueueStatus : std::uint8_t { ok, empty, full, corrupt };

template <typename Pos, std::size_t Capacity>
class SpscProducer {
 public:
  using Queue = SpscIndexQueue<Pos, Capacity>;

  SpscProducer() = default;
  // Takes over the producer side. `tail` is read from the queue: only a
  // producer writes it, so on a well-formed queue it is our own last value.
  explicit SpscProducer(Queue* q) noexcept
      : q_(q),
        tail_(q->tail.load(std::memory_order_relaxed)),  // own index: no ordering needed
        cached_head_(q->head.load(std::memory_order_acquire)) {}

  [[nodiscard]] QueueStatus try_push(std::uint32_t value) noexcept {
    if (static_cast<Pos>(tail_ - cached_head_) >= Capacity) {
      // acquire: the consumer's release of head means it finished reading
      // the slot we are about to overwrite.
      cached_head_ = q_->head.load(std::memory_order_acquire);
      const Pos fill = static_cast<Pos>(tail_ - cached_head_);
      if (fill > Capacity) return QueueStatus::corrupt;
      if (fill == Capacity) return QueueStatus::full;
    }
    q_->slots[tail_ & (Capacity - 1)].store(value, std::memory_order_relaxed);
    tail_ = static_cast<Pos>(tail_ + 1);
    q_->tail.store(tail_, std::memory_order_release);  // publish the slot
    return QueueStatus::ok;
  }

  // Racy hint of the number of queued entries.
  [[nodiscard]] Pos size_hint() const noexcept {
    return static_cast<Pos>(tail_ - q_->head.load(std::memory_order_relaxed));
  }

  [[nodiscard]] bool attached() const noexcept { return q_ != nullptr; }

 private:
  Queue* q_ = nullptr;
  Pos tail_ = 0;
  Pos cached_head_ = 0;
};

template <typename Pos, std::size_t Capacity>
class SpscConsumer {
 public:
  using Queue = SpscIndexQueue<Pos, Capacity>;

  SpscConsumer() = default;
  explicit SpscConsumer(Queue* q) noexcept
      : q_(q),
        head_(q->head.load(std::memory_order_relaxed)),  // own index
        cached_tail_(q->tail.load(std::memory_order_acquire)) {}

  // Pops one value into `out`. `out` is untrusted if the producer is.
  [[nodiscard]] QueueStatus try_pop(std::uint32_t& out) noexcept {
    if (head_ == cached_tail_) {
      // acquire: pairs with the producer's tail release, making the slot
      // written before it visible.
      cached_tail_ = q_->tail.load(std::memory_order_acquire);
      if (head_ == cached_tail_) return QueueStatus::empty;
    }
    if (static_cast<Pos>(cached_tail_ - head_) > Capacity) return QueueStatus::corrupt;
    out = q_->slots[head_ & (Capacity - 1)].load(std::memory_order_relaxed);
    head_ = static_cast<Pos>(head_ + 1);
    q_->head.store(head_, std::memory_order_release);  // slot may be reused
    return QueueStatus::ok;
  }

  // Racy hint: entries that a pop would find now.
  [[nodiscard]] Pos size_hint() const noexcept {
    return static_cast<Pos>(q_->tail.load(std::memory_order_relaxed) - head_);
  }

  [[nodiscard]] bool attached() const noexcept { return q_ != nullptr; }

 private:
  Queue* q_ = nullptr;
  Pos head_ = 0;
  Pos cached_tail_ = 0;
};

}  // namespace preroll::shm
