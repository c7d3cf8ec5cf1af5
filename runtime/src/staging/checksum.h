#pragma once

// What staging checks every copy against: XXH3-64 (runtime/src/hash/xxh3.h).

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "drocc/runtime/file_system.h"
#include "runtime/src/hash/xxh3.h"

namespace drocc::runtime::staging {

// Whether the regular file at `path` begins with `size` bytes whose XXH3-64 is `xxh3` (a copy
// staging wrote: never longer than that). On a match with a `mode`, gives the file those
// permission bits through the open file, so that a mode without read permission does not get
// in the way of the check.
absl::StatusOr<bool> CheckCopy(FileSystem& fs, const std::string& path, uint64_t size,
                               uint64_t xxh3, std::optional<uint32_t> mode);

}  // namespace drocc::runtime::staging
