#pragma once

// sbatch --open-mode values.

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace drocc::client {

// The two values of JobRequest::open_mode besides "" (not given: Slurm's default, the
// JobFileAppend setting of slurm.conf).
inline constexpr std::string_view kOpenModeAppend = "append";
inline constexpr std::string_view kOpenModeTruncate = "truncate";

// Parses sbatch's --open-mode={append|truncate} into kOpenModeAppend or kOpenModeTruncate.
// Accepts what sbatch accepts: sbatch (slurm_opt.c, arg_set_open_mode) looks only at the first
// letter, in either case, so "append", "APPEND", "a" and "Append" all mean append, and "t..."
// means truncate. Anything else is InvalidArgument, one line naming `option` when given and
// the two accepted values.
absl::StatusOr<std::string> ParseOpenMode(std::string_view text, std::string_view option = "");

}  // namespace drocc::client
