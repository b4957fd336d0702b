// One attached client: who it is (from the socket), its segment, and where
// its windows go. Created by the io thread on a valid HELLO; after that its
// segment and sink are touched only by the persistence worker.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <string>

#include "storage/atf_sink.hpp"
#include "client_segment.hpp"

namespace preroll::daemon {

struct ClientSession {
  ClientSession(std::uint64_t id_, ClientIdentity who, shm::MappedSegment mapping, shm::HeaderSnapshot header,
                FileStore& store, std::string policy_json)
      : id(id_),
        identity(who),
        segment(std::move(mapping), std::move(header), who.pid),
        sink(store, who, std::move(policy_json)) {}

  const std::uint64_t id;  // daemon-local, 1.. in attach order
  const ClientIdentity identity;
  ClientSegment segment;  // worker only
  AtfSink sink;           // worker only
  // Set by the io thread when a drain is queued, cleared by the worker when
  // it starts one: coalesces doorbells (acq_rel exchange on both sides, so a
  // doorbell after the clear always queues a new drain).
  std::atomic<bool> drain_queued{false};
  // Set by the worker once finalized; later drains are ignored.
  std::atomic<bool> finished{false};
  // Set by the worker (release, after finished) when the segment turned out
  // corrupt: the io thread then closes the connection (acquire), so a faulty
  // client is detached like one that went away, while it still lives.
  std::atomic<bool> faulty{false};
};

}  // namespace preroll::daemon
