#pragma once

// sbatch --export: which of the client's environment variables the job runs with.

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace drocc::client {

struct ExportedEnvironment {
  std::string mode;                    // the --export value as given; "ALL" when not given
  std::vector<std::string> variables;  // "K=V", in the client's order, then additions in list order
};

// Applies --export the way sbatch(1) documents it:
//   not given, "ALL"   the whole client environment
//   "NONE"             no variables
//   "A,B=2"            only A (its value in the client environment) and B=2
//   "ALL,A,B=2"        the whole client environment, plus B=2 only if the client has no B
//                      (sbatch: with ALL "the user environment takes precedence over any
//                      explicitly given environment variables")
//   "NONE,B=2"         like "B=2": sbatch treats NONE in a list as no ALL
// ALL and NONE are matched in any case. A listed name the client does not have is skipped and
// reported through `warn` (sbatch skips it silently); a name listed twice keeps the last value.
// Unlike sbatch, SLURM_* variables are not special: in list and NONE modes they are exported
// only when listed (drocc's job environment comes from the daemon, and SLURM_* variables of a
// submitting job would describe the wrong job).
// Errors (InvalidArgument, naming `option`): an empty entry, a name that is not
// [A-Za-z_][A-Za-z0-9_]*, ALL together with NONE.
absl::StatusOr<ExportedEnvironment> ResolveExport(
    const std::optional<std::string>& spec, const std::vector<std::string>& client_environment,
    std::string_view option = "", const std::function<void(std::string_view)>& warn = {});

}  // namespace drocc::client
