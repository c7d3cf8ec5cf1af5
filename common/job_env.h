#pragma once

// The environment droccd gives each job for libdrocc-runtime (docs/runtime.md, "Job
// control"): which drocc job it is, the job's own token for RuntimeService, and where droccd
// listens. Shared by droccd (which sets them) and the CLI; the runtime's public header
// (job_control.h) repeats them so it stands alone, and job_control.cc checks they agree.

#include <string_view>

namespace drocc {

inline constexpr char kJobIdVar[] = "DROCC_JOB_ID";
inline constexpr char kJobTokenVar[] = "DROCC_JOB_TOKEN";
inline constexpr char kServerVar[] = "DROCC_SERVER";
// The gRPC metadata key that carries DROCC_JOB_TOKEN on RuntimeService calls.
inline constexpr char kJobTokenMetadataKey[] = "x-drocc-job-token";

// True for a "NAME=value" entry that sets one of the variables above.
inline bool IsRuntimeVariable(std::string_view entry) {
  const std::string_view name = entry.substr(0, entry.find('='));
  return name == kJobIdVar || name == kJobTokenVar || name == kServerVar;
}

}  // namespace drocc
