#pragma once

// What asynchronous saves and the node-local tier add to a Checkpointer (background.cc):
// the background thread, its own communicator, and the host buffer.

#include <cstdint>
#include <memory>
#include <vector>

#include "drocc/runtime/checkpoint.h"
#include "runtime/src/checkpoint/host_buffer.h"
#include "runtime/src/checkpoint/manifest.h"
#include "runtime/src/checkpoint/posix_io.h"
#include "runtime/src/checkpoint/worker.h"

namespace drocc::runtime {

// One save handed from Save (application thread) to the background thread.
struct Checkpointer::Job {
  int64_t step = 0;
  Clock::time_point started;                  // when Save was called
  std::vector<checkpoint::ItemEntry> layout;  // this rank's shard, as PlanShard laid it out
  // Asynchronous mode: the shard's bytes are the first `bytes` of the host buffer. Otherwise
  // (synchronous with a node-local tier) Save already wrote the local shard, giving `local`.
  bool in_buffer = false;
  uint64_t bytes = 0;
  checkpoint::FileDigest local;
};

struct Checkpointer::Background {
  // A Duplicate() of the application's communicator, used by the worker thread only.
  std::unique_ptr<Communicator> comm;
  // Asynchronous mode: the snapshot. Save fills it while the worker is idle; the worker reads
  // it while busy; nobody else touches it.
  checkpoint::HostBuffer buffer;
  std::vector<char> chunk;    // the node-local flush's copy buffer (worker thread only)
  checkpoint::Worker worker;  // last: its thread ends before the members above go away
};

}  // namespace drocc::runtime
