#pragma once

// A connection to droccd. The address comes from --server, else $DROCC_SERVER, else the
// default socket. "unix:/path" or "/path" is a Unix socket (droccd identifies the caller by
// the socket's peer credentials); "host:port" is TCP, where every call carries a fresh MUNGE
// credential bound to its method, like Slurm's own RPCs.

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "drocc/v1/admin.grpc.pb.h"
#include "drocc/v1/job.grpc.pb.h"
#include "drocc/v1/project.grpc.pb.h"

namespace drocc::client {

inline constexpr char kDefaultServer[] = "unix:/run/drocc/droccd.sock";
inline constexpr char kServerEnv[] = "DROCC_SERVER";

struct ServerAddress {
  bool is_unix = true;
  std::string target;  // a gRPC target: "unix:/run/drocc/droccd.sock", "127.0.0.1:7890"
};

// `flag` wins when not empty, then `env` (the value of $DROCC_SERVER, may be null), then the
// default. INVALID_ARGUMENT for an address that is neither a path nor host:port.
absl::StatusOr<ServerAddress> ResolveServerAddress(std::string_view flag, const char* env);

// The wait the server asked for in the "retry-after-ms" trailing metadata of a finished call
// (common/retry_after.h), if any.
std::optional<absl::Duration> RetryAfter(const grpc::ClientContext& ctx);

class Connection {
 public:
  explicit Connection(ServerAddress address);

  // A context for one call of `method` ("/drocc.v1.JobService/SubmitJob"). `timeout` zero:
  // no deadline (streams). On TCP it carries a MUNGE credential; UNAVAILABLE if munged is
  // not running on this host.
  absl::StatusOr<std::unique_ptr<grpc::ClientContext>> NewContext(std::string_view method,
                                                                  absl::Duration timeout) const;

  v1::JobService::Stub& jobs() { return *jobs_; }
  v1::AdminService::Stub& admin() { return *admin_; }
  v1::ProjectService::Stub& projects() { return *projects_; }

  // One line for a failed call: the server's own message, or, when droccd could not be
  // reached at all, where we looked and what to do.
  std::string Describe(const grpc::Status& status) const;
  const ServerAddress& address() const { return address_; }

 private:
  ServerAddress address_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::JobService::Stub> jobs_;
  std::unique_ptr<v1::AdminService::Stub> admin_;
  std::unique_ptr<v1::ProjectService::Stub> projects_;
};

}  // namespace drocc::client
