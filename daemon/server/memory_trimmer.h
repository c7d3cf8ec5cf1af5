#pragma once

// Gives heap memory that glibc holds free back to the system. gRPC (1.51) buffers a whole
// request before it enforces the 16 MiB message limit (grpc/grpc#43012), so a 100 MB request,
// refused as RESOURCE_EXHAUSTED, leaves ~100 MB of freed heap that glibc keeps mapped: droccd's
// resident memory would stay that large. A thread looks every `interval` at how much the heap
// holds free and, above `threshold_bytes`, calls malloc_trim(0). Under a sanitizer's allocator
// both are no-ops.

#include <cstddef>
#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace drocc::server {

struct MemoryTrimmerOptions {
  absl::Duration interval = absl::Seconds(5);
  size_t threshold_bytes = 32 << 20;
};

class MemoryTrimmer {
 public:
  // Starts the thread; the destructor stops it.
  explicit MemoryTrimmer(MemoryTrimmerOptions options);
  ~MemoryTrimmer();
  MemoryTrimmer(const MemoryTrimmer&) = delete;
  MemoryTrimmer& operator=(const MemoryTrimmer&) = delete;

 private:
  void Run();

  const MemoryTrimmerOptions options_;
  absl::Notification stop_;
  std::thread thread_;
};

}  // namespace drocc::server
