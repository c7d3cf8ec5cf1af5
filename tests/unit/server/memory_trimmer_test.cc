// MemoryTrimmer gives a fragmented heap's free memory back: resident memory drops.

#include "daemon/server/memory_trimmer.h"

#include <gtest/gtest.h>
#include <malloc.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <vector>

namespace drocc::server {
namespace {

[[maybe_unused]] size_t ResidentBytes() {
  size_t pages = 0, resident = 0;
  std::ifstream("/proc/self/statm") >> pages >> resident;
  return resident * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

TEST(MemoryTrimmerTest, GivesFreedHeapBack) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "ASan's allocator has no malloc_trim";
#else
  // 4000 blocks of 32 KiB (under the mmap threshold: from the heap), written so they are
  // resident; then every block but each 16th is freed, so the free memory is in holes that
  // glibc does not trim by itself.
  constexpr size_t kBlock = 32 << 10;
  std::vector<void*> blocks;
  for (int i = 0; i < 4000; ++i) {
    blocks.push_back(std::malloc(kBlock));
    std::memset(blocks.back(), 1, kBlock);
  }
  for (size_t i = 0; i < blocks.size(); ++i) {
    if (i % 16 != 0) std::free(blocks[i]);
  }
  const size_t before = ResidentBytes();
  ASSERT_GT(mallinfo2().fordblks, size_t{100} << 20);
  {
    MemoryTrimmer trimmer({.interval = absl::Milliseconds(10), .threshold_bytes = 32 << 20});
    for (int i = 0; i < 500 && ResidentBytes() + (size_t{64} << 20) > before; ++i) {
      absl::SleepFor(absl::Milliseconds(10));
    }
  }
  EXPECT_LT(ResidentBytes() + (size_t{64} << 20), before)
      << "resident " << (ResidentBytes() >> 20) << " MiB, was " << (before >> 20) << " MiB";
  for (size_t i = 0; i < blocks.size(); i += 16) std::free(blocks[i]);
#endif
}

TEST(MemoryTrimmerTest, StopsPromptly) {
  absl::Time start = absl::Now();
  { MemoryTrimmer trimmer({.interval = absl::Hours(1)}); }
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
}

}  // namespace
}  // namespace drocc::server
