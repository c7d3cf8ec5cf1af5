#pragma once

// A whole (small) file as a string: certificates, keys, tokens.

#include <string>

#include "absl/status/statusor.h"

namespace drocc {

// FAILED_PRECONDITION "cannot read <what> <path>: <reason>" when it cannot be opened or read.
absl::StatusOr<std::string> ReadWholeFile(const std::string& path, const char* what);

}  // namespace drocc
