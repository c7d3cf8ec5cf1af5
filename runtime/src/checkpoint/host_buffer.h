#pragma once

// The host buffer of asynchronous mode: where Save copies the registered state before a
// background thread writes it out. Allocated once (at the first asynchronous save) and reused;
// reallocated only when the state outgrows it (a callback's bytes grew). Anonymous memory,
// backed by huge pages where the kernel allows and prefaulted when allocated, so the copy of a
// later save is a plain memcpy into resident memory. Not thread-safe.

#include <cstdint>

#include "absl/status/status.h"

namespace drocc::runtime::checkpoint {

class HostBuffer {
 public:
  HostBuffer() = default;
  ~HostBuffer();
  HostBuffer(const HostBuffer&) = delete;
  HostBuffer& operator=(const HostBuffer&) = delete;

  // Makes room for `bytes`; allocates only if the buffer is smaller. `bound` (0: none) caps
  // the allocation: more than `bound` bytes is ResourceExhausted, and so is a failed mmap.
  // The contents are not preserved across a reallocation.
  absl::Status Reserve(uint64_t bytes, uint64_t bound);
  char* data() const { return data_; }
  uint64_t capacity() const { return capacity_; }

 private:
  void Release();

  char* data_ = nullptr;
  uint64_t capacity_ = 0;
};

}  // namespace drocc::runtime::checkpoint
