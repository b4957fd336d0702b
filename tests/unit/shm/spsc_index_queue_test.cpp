// The SPSC index queue: FIFO order, full/empty, wrap-around of a narrow
// position type, a hostile peer's impossible positions, and a two-thread
// checksum run.
#include <catch2/catch.hpp>
#include <cstdint>
#include <thread>

#include "preroll/shm/spsc_index_queue.hpp"

using namespace preroll::shm;

TEST_CASE("queue delivers in order and reports full and empty") {
  SpscIndexQueue<std::uint32_t, 4> q{};
  SpscProducer<std::uint32_t, 4> p(&q);
  SpscConsumer<std::uint32_t, 4> c(&q);
  std::uint32_t v = 0;
  CHECK(c.try_pop(v) == QueueStatus::empty);
  for (std::uint32_t i = 0; i < 4; ++i) REQUIRE(p.try_push(i + 10) == QueueStatus::ok);
  CHECK(p.try_push(99) == QueueStatus::full);
  for (std::uint32_t i = 0; i < 4; ++i) {
    REQUIRE(c.try_pop(v) == QueueStatus::ok);
    CHECK(v == i + 10);
  }
  CHECK(c.try_pop(v) == QueueStatus::empty);
}

TEST_CASE("uint8_t positions wrap around many times without losing order") {
  SpscIndexQueue<std::uint8_t, 8> q{};
  SpscProducer<std::uint8_t, 8> p(&q);
  SpscConsumer<std::uint8_t, 8> c(&q);
  std::uint32_t next_in = 0, next_out = 0;
  // 2000 operations: positions wrap about 8 times.
  for (int round = 0; round < 400; ++round) {
    const int burst = 1 + round % 8;
    for (int i = 0; i < burst; ++i)
      if (p.try_push(next_in) == QueueStatus::ok) ++next_in;
    for (int i = 0; i < burst; ++i) {
      std::uint32_t v;
      if (c.try_pop(v) != QueueStatus::ok) break;
      REQUIRE(v == next_out);
      ++next_out;
    }
  }
  CHECK(next_in > 1000);
  CHECK(next_out <= next_in);
  CHECK(next_in - next_out <= 8);
}

TEST_CASE("consumer reports a tail moved past capacity as corrupt, never reads outside the slots") {
  SpscIndexQueue<std::uint32_t, 4> q{};
  SpscConsumer<std::uint32_t, 4> c(&q);
  q.tail.store(1000);  // a hostile producer
  std::uint32_t v = 0;
  CHECK(c.try_pop(v) == QueueStatus::corrupt);
}

TEST_CASE("producer reports a head moved backwards as corrupt") {
  SpscIndexQueue<std::uint32_t, 4> q{};
  SpscProducer<std::uint32_t, 4> p(&q);
  for (std::uint32_t i = 0; i < 4; ++i) REQUIRE(p.try_push(i) == QueueStatus::ok);
  q.head.store(static_cast<std::uint32_t>(-5));  // hostile consumer: fill would be 9 > 4
  CHECK(p.try_push(7) == QueueStatus::corrupt);
}

TEST_CASE("two threads move a million values with a matching checksum") {
  SpscIndexQueue<std::uint32_t, 64> q{};
  constexpr std::uint32_t kCount = 1'000'000;
  std::uint64_t sum_in = 0, sum_out = 0;
  std::thread producer([&] {
    SpscProducer<std::uint32_t, 64> p(&q);
    for (std::uint32_t i = 1; i <= kCount; ++i) {
      while (p.try_push(i) != QueueStatus::ok) std::this_thread::yield();
      sum_in += i;
    }
  });
  SpscConsumer<std::uint32_t, 64> c(&q);
  std::uint32_t expected = 1;
  bool in_order = true;
  while (expected <= kCount) {
    std::uint32_t v = 0;
    const auto st = c.try_pop(v);
    if (st == QueueStatus::empty) {
      std::this_thread::yield();
      continue;
    }
    REQUIRE(st == QueueStatus::ok);
    in_order = in_order && v == expected;
    sum_out += v;
    ++expected;
  }
  producer.join();
  CHECK(in_order);
  CHECK(sum_in == sum_out);
}
