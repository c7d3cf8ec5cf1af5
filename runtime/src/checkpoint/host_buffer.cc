#include "runtime/src/checkpoint/host_buffer.h"

#include <sys/mman.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_format.h"

namespace drocc::runtime::checkpoint {
namespace {

constexpr uint64_t kHugePage = uint64_t{2} << 20;

}  // namespace

HostBuffer::~HostBuffer() { Release(); }

void HostBuffer::Release() {
  if (data_ != nullptr) ::munmap(data_, capacity_);
  data_ = nullptr;
  capacity_ = 0;
}

absl::Status HostBuffer::Reserve(uint64_t bytes, uint64_t bound) {
  if (bound != 0 && bytes > bound) {
    return absl::ResourceExhaustedError(absl::StrFormat(
        "this rank's state is %d bytes, more than CheckpointOptions.async_buffer_bytes (%d); "
        "raise async_buffer_bytes, or set it to 0 to size the buffer to the state",
        bytes, bound));
  }
  if (bytes <= capacity_) return absl::OkStatus();
  // Some headroom, so that callback bytes growing a little do not reallocate every save;
  // whole huge pages, since the kernel backs the buffer with them where it can.
  uint64_t want = bytes + bytes / 16;
  want = (want + kHugePage - 1) / kHugePage * kHugePage;
  if (bound != 0) want = std::max(bytes, std::min(want, bound));
  Release();
  void* p = ::mmap(nullptr, want, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    return absl::ResourceExhaustedError(
        absl::StrFormat("cannot allocate the %d-byte buffer of asynchronous checkpointing: %s; "
                        "free memory, or save synchronously",
                        want, std::strerror(errno)));
  }
  // Both are hints: an older kernel or THP disabled only makes the first copy slower.
  ::madvise(p, want, MADV_HUGEPAGE);
  ::madvise(p, want, MADV_POPULATE_WRITE);
  data_ = static_cast<char*>(p);
  capacity_ = want;
  return absl::OkStatus();
}

}  // namespace drocc::runtime::checkpoint
