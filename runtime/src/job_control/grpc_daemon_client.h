#pragma once

// The real DaemonClient: droccd's RuntimeService over gRPC, every call carrying the job's token
// in the "x-drocc-job-token" metadata. Insecure channel credentials for now: on a Unix socket
// droccd knows the caller from the socket; TLS for TCP targets is a later step.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "drocc/runtime/job_control.h"

namespace drocc::runtime::job_control {

// DROCC_SERVER's forms, as the drocc CLI accepts them (client/lib/connection.h): "unix:/path"
// and "/path" are Unix sockets, "host:port" is TCP; empty or null means kDefaultServer.
// Returns the gRPC target ("unix:/path" or "host:port"); INVALID_ARGUMENT otherwise.
absl::StatusOr<std::string> ResolveDaemonTarget(const char* server);

// What droccd put in the job's environment.
struct DaemonEnvironment {
  std::string target;  // resolved DROCC_SERVER
  uint64_t job_id = 0;
  std::string token;
};
// nullopt when DROCC_JOB_TOKEN is not set or empty (the job was not started by droccd).
// INVALID_ARGUMENT, naming the variable, when the token is set but DROCC_JOB_ID or
// DROCC_SERVER is missing or malformed.
absl::StatusOr<std::optional<DaemonEnvironment>> DaemonEnvironmentFromEnv();

std::unique_ptr<DaemonClient> NewGrpcDaemonClient(DaemonEnvironment env);

}  // namespace drocc::runtime::job_control
