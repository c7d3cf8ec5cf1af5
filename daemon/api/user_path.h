#pragma once

// The rule for paths users send (working directory, output and error patterns, script path):
// no ".." component, no NUL or newline. droccd never resolves a path a user sends against the
// filesystem (Slurm opens the files as the job's user), so the rule is lexical; clients send
// absolute, lexically normalized paths (`drocc submit` turns relative ones into those).

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "common/path_rule.h"

namespace drocc::api {

using ::drocc::HasDotDot;

// OK, or INVALID_ARGUMENT naming `field` and saying what to do. `field` is the request's
// field ("spec.workdir").
absl::Status CheckUserPath(absl::string_view field, absl::string_view path);

}  // namespace drocc::api
