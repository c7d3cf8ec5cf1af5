#pragma once

// The environment droccd gives each job for libdrocc-runtime (docs/runtime.md, "Job
// control"): which drocc job it is, the job's own token for RuntimeService, and where droccd
// listens. Shared by droccd (which sets them), the runtime (which reads them) and the CLI.

#include <string_view>

namespace drocc {

inline constexpr char kJobIdVar[] = "DROCC_JOB_ID";
inline constexpr char kJobTokenVar[] = "DROCC_JOB_TOKEN";
inline constexpr char kServerVar[] = "DROCC_SERVER";

// True for a "NAME=value" entry that sets one of the variables above.
inline bool IsRuntimeVariable(std::string_view entry) {
  const std::string_view name = entry.substr(0, entry.find('='));
  return name == kJobIdVar || name == kJobTokenVar || name == kServerVar;
}

}  // namespace drocc
