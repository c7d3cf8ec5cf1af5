#include "runtime/src/staging/checksum.h"

#include <algorithm>
#include <memory>

#include "common/status.h"

namespace drocc::runtime::staging {

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
