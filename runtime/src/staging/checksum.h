#pragma once

// XXH3-64, streamed: what staging checks every copy against.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "drocc/runtime/file_system.h"

namespace drocc::runtime::staging {

class Xxh3 {
 public:
  Xxh3();
  ~Xxh3();
  Xxh3(const Xxh3&) = delete;
  Xxh3& operator=(const Xxh3&) = delete;

  void Reset();
  void Update(const void* data, size_t bytes);
  uint64_t Digest() const;

 private:
  void* state_;  // XXH3_state_t*, kept out of this header
};

// Whether the regular file at `path` begins with `size` bytes whose XXH3-64 is `xxh3` (a copy
// staging wrote: never longer than that). On a match with a `mode`, gives the file those
// permission bits through the open file, so that a mode without read permission does not get
// in the way of the check.
absl::StatusOr<bool> CheckCopy(FileSystem& fs, const std::string& path, uint64_t size,
                               uint64_t xxh3, std::optional<uint32_t> mode);

}  // namespace drocc::runtime::staging
