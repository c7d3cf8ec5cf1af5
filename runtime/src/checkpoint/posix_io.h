#pragma once

// Plain POSIX file operations for checkpoint data, each returning a Status that names the
// path and the errno text. Durability is explicit: nothing here is durable until fsync'ed.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "runtime/src/hash/xxh3.h"

namespace drocc::runtime::checkpoint {

// A file being written in order, checksummed on the way (XXH3-64 of everything written).
class ShardWriter {
 public:
  ShardWriter() = default;
  ~ShardWriter();
  ShardWriter(const ShardWriter&) = delete;
  ShardWriter& operator=(const ShardWriter&) = delete;

  // Creates or truncates `path`.
  absl::Status Open(const std::string& path);
  absl::Status Append(const void* data, uint64_t bytes);
  // fsync and close; afterwards bytes()/xxh3() describe the file.
  absl::Status Finish();
  uint64_t bytes() const { return bytes_; }
  uint64_t xxh3() const { return xxh3_; }

 private:
  std::string path_;
  int fd_ = -1;
  uint64_t bytes_ = 0;
  uint64_t xxh3_ = 0;
  Xxh3 hash_;
};

struct FileDigest {
  uint64_t bytes = 0;
  uint64_t xxh3 = 0;
};
// Size and XXH3-64 of a whole file. NotFound if it does not exist.
absl::StatusOr<FileDigest> DigestFile(const std::string& path);

// Copies `from` to `to` (created or truncated, then fsynced) through `chunk`, which it sizes
// on first use: the size and XXH3-64 of what it copied.
absl::StatusOr<FileDigest> CopyFile(const std::string& from, const std::string& to,
                                    std::vector<char>& chunk);

absl::StatusOr<std::string> ReadFile(const std::string& path);
// Exactly `bytes` bytes at `offset`; a short file is a DataLoss error.
absl::Status ReadAt(const std::string& path, uint64_t offset, void* out, uint64_t bytes);

// Writes `path`.tmp, fsyncs it, renames it to `path` and fsyncs the directory: readers see
// either the old file (or none) or the complete new one, also after a crash.
absl::Status WriteFileAtomically(const std::string& path, std::string_view content);

absl::Status FsyncDir(const std::string& dir);
absl::Status MakeDirs(const std::string& dir);  // mkdir -p
// Removes `path` if it exists (not an error if it does not).
absl::Status RemoveFile(const std::string& path);
// Removes the files directly in `dir`, then `dir` (checkpoint directories are flat).
absl::Status RemoveFlatDir(const std::string& dir);
// Removes `dir` if it is empty; not an error if it does not exist or still has entries.
absl::Status RemoveDirIfEmpty(const std::string& dir);
// Names of the entries of `dir`, unsorted.
absl::StatusOr<std::vector<std::string>> ListDir(const std::string& dir);
bool Exists(const std::string& path);

}  // namespace drocc::runtime::checkpoint
