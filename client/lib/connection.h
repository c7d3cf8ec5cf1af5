#pragma once

// A connection to droccd. The address comes from --server, else $DROCC_SERVER, else the
// default socket. "unix:/path" or "/path" is a Unix socket (droccd identifies the caller by
// the socket's peer credentials); "host:port" is TCP, where every call carries a fresh MUNGE
// credential bound to its method, like Slurm's own RPCs; "https://host:port" is droccd's TLS
// listener, where every call carries a service token (TlsOptions).

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
#include "grpc/health/v1/health.grpc.pb.h"

namespace drocc::client {

inline constexpr char kDefaultServer[] = "unix:/run/drocc/droccd.sock";
inline constexpr char kServerEnv[] = "DROCC_SERVER";
inline constexpr char kTokenFileEnv[] = "DROCC_TOKEN_FILE";
inline constexpr char kCaCertEnv[] = "DROCC_CA_CERT";
inline constexpr char kClientCertEnv[] = "DROCC_CLIENT_CERT";
inline constexpr char kClientKeyEnv[] = "DROCC_CLIENT_KEY";

// How the CLI retries a call that found droccd unavailable (a restart): after 0.25 s, then
// twice as long each time up to 4 s. The channel reconnects on the same schedule; left to
// gRPC's default (1 s growing 1.6x, failing calls at once in between) a retry would often not
// even try to connect, and the last attempt of a 15 s window would come after 9.5 s.
inline constexpr absl::Duration kRetryFirstBackoff = absl::Milliseconds(250);
inline constexpr absl::Duration kRetryMaxBackoff = absl::Seconds(4);

struct ServerAddress {
  bool is_unix = true;
  std::string target;  // a gRPC target: "unix:/run/drocc/droccd.sock", "127.0.0.1:7890"
  bool tls = false;    // "https://": the TLS listener
};

// What a TLS connection needs: the service token (from --token-file, else $DROCC_TOKEN_FILE;
// the file must not be readable by group or others, like an ssh key), the CA that signed
// droccd's certificate ($DROCC_CA_CERT; empty: the system's roots), and a client certificate
// and key when droccd asks for one ($DROCC_CLIENT_CERT, $DROCC_CLIENT_KEY).
struct TlsOptions {
  std::string token;
  std::string root_certs_pem;
  std::string client_cert_pem;
  std::string client_key_pem;
};
// FAILED_PRECONDITION, naming the file and what to do, for a missing token file, one open to
// others, or one that does not hold a token; never repeats the token.
absl::StatusOr<TlsOptions> LoadTlsOptions(std::string_view token_file_flag);

// `flag` wins when not empty, then `env` (the value of $DROCC_SERVER, may be null), then the
// default. INVALID_ARGUMENT for an address that is neither a path nor host:port.
absl::StatusOr<ServerAddress> ResolveServerAddress(std::string_view flag, const char* env);

// The wait the server asked for in the "retry-after-ms" trailing metadata of a finished call
// (common/retry_after.h), if any.
std::optional<absl::Duration> RetryAfter(const grpc::ClientContext& ctx);

class Connection {
 public:
  explicit Connection(ServerAddress address, TlsOptions tls = {});

  // A context for one call of `method` ("/drocc.v1.JobService/SubmitJob"). `timeout` zero:
  // no deadline (streams). On TCP it carries a MUNGE credential (UNAVAILABLE if munged is
  // not running on this host); over TLS the service token.
  absl::StatusOr<std::unique_ptr<grpc::ClientContext>> NewContext(std::string_view method,
                                                                  absl::Duration timeout) const;

  v1::JobService::Stub& jobs() { return *jobs_; }
  v1::AdminService::Stub& admin() { return *admin_; }
  v1::ProjectService::Stub& projects() { return *projects_; }
  grpc::health::v1::Health::Stub& health() { return *health_; }

  // Whether a failed call cannot have reached droccd (no connection was made), so that
  // repeating it is safe whatever it does.
  static bool NeverDelivered(const grpc::Status& status);

  // One line for a failed call: the server's own message, or, when droccd could not be
  // reached at all, where we looked and what to do.
  std::string Describe(const grpc::Status& status) const;
  const ServerAddress& address() const { return address_; }

 private:
  ServerAddress address_;
  std::string token_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::JobService::Stub> jobs_;
  std::unique_ptr<v1::AdminService::Stub> admin_;
  std::unique_ptr<v1::ProjectService::Stub> projects_;
  std::unique_ptr<grpc::health::v1::Health::Stub> health_;
};

}  // namespace drocc::client
