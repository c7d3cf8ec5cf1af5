#include "runtime/src/staging/checksum.h"

#include <xxhash.h>
#if defined(__x86_64__) || defined(__i386__)
// libxxhash's run-time dispatch: XXH3_64bits_update becomes XXH3_64bits_update_dispatch,
// which uses AVX2 or AVX-512 where the CPU has them (the library itself is built for SSE2).
// Every byte staged is hashed twice (at the source and on reading the copy back): this is
// most of the CPU time of a large file after the copies themselves.
#include <xxh_x86dispatch.h>
#endif

#include <algorithm>
#include <memory>
#include <new>

#include "common/status.h"

namespace drocc::runtime::staging {

Xxh3::Xxh3() : state_(XXH3_createState()) {
  if (state_ == nullptr) throw std::bad_alloc();
  Reset();
}

Xxh3::~Xxh3() { XXH3_freeState(static_cast<XXH3_state_t*>(state_)); }

void Xxh3::Reset() { XXH3_64bits_reset(static_cast<XXH3_state_t*>(state_)); }

void Xxh3::Update(const void* data, size_t bytes) {
  XXH3_64bits_update(static_cast<XXH3_state_t*>(state_), data, bytes);
}

uint64_t Xxh3::Digest() const {
  return XXH3_64bits_digest(static_cast<const XXH3_state_t*>(state_));
}

absl::StatusOr<bool> CheckCopy(FileSystem& fs, const std::string& path, uint64_t size,
                               uint64_t xxh3, std::optional<uint32_t> mode) {
  constexpr size_t kBlock = size_t{1} << 20;
  ASSIGN_OR_RETURN(std::unique_ptr<File> file, fs.OpenForRead(path));
  // Small files, many at once: a buffer of their size.
  const size_t block = static_cast<size_t>(std::max<uint64_t>(1, std::min<uint64_t>(kBlock, size)));
  auto buffer = std::make_unique_for_overwrite<char[]>(block);
  Xxh3 hash;
  for (uint64_t offset = 0; offset < size;) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(block, size - offset));
    ASSIGN_OR_RETURN(const size_t n, file->PRead(offset, buffer.get(), want));
    if (n < want) return false;  // shorter
    hash.Update(buffer.get(), n);
    offset += n;
  }
  if (hash.Digest() != xxh3) return false;
  if (mode.has_value()) RETURN_IF_ERROR(file->SetMode(*mode));
  RETURN_IF_ERROR(file->Close());
  return true;
}

}  // namespace drocc::runtime::staging
