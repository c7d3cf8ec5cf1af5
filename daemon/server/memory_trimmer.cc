#include "daemon/server/memory_trimmer.h"

#include <malloc.h>

#include "common/logging.h"

namespace drocc::server {

MemoryTrimmer::MemoryTrimmer(MemoryTrimmerOptions options)
    : options_(options), thread_([this] { Run(); }) {}

MemoryTrimmer::~MemoryTrimmer() {
  stop_.Notify();
  thread_.join();
}

void MemoryTrimmer::Run() {
  while (!stop_.WaitForNotificationWithTimeout(options_.interval)) {
    const struct mallinfo2 info = mallinfo2();
    if (info.fordblks < options_.threshold_bytes) continue;
    malloc_trim(0);
    spdlog::debug("memory: returned what the heap held free ({} MiB) to the system",
                  info.fordblks >> 20);
  }
}

}  // namespace drocc::server
