#pragma once

// Memory sizes as sbatch --mem takes them (Slurm's str_to_mbytes()).

#include <cstdint>
#include <string_view>

#include "absl/status/statusor.h"

namespace drocc::client {

// Parses "<digits>[K|M|G|T][B]" (suffix in any case) into MiB, like sbatch: no suffix means
// MiB, K rounds up to whole MiB ("512K" -> 1, "1K" -> 1), G = 1024, T = 1024*1024.
// "0" parses to 0, which sbatch reads as "all the memory of each node"; the caller decides.
// Errors (InvalidArgument, one line, naming `option` when given): empty, signs, decimals
// ("1.5G": Slurm takes whole numbers only, say 1536M), unknown suffixes, overflow.
absl::StatusOr<uint64_t> ParseMemoryMb(std::string_view text, std::string_view option = "");

}  // namespace drocc::client
