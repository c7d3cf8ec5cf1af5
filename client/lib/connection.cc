#include "client/lib/connection.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/read_file.h"
#include "common/retry_after.h"
#include "common/status.h"
#include "daemon/auth/munge.h"

namespace drocc::client {

absl::StatusOr<ServerAddress> ResolveServerAddress(std::string_view flag, const char* env) {
  std::string raw(!flag.empty()                        ? flag
                  : (env != nullptr && env[0] != '\0') ? std::string_view(env)
                                                       : std::string_view(kDefaultServer));
  if (raw.starts_with("unix:")) return ServerAddress{true, raw};
  if (raw.starts_with("/")) return ServerAddress{true, absl::StrCat("unix:", raw)};
  const bool tls = raw.starts_with("https://");
  std::string target = tls ? raw.substr(8) : raw;
  size_t colon = target.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == target.size() ||
      target.find('/') != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("server address \"", raw,
                     "\" is neither a socket path (unix:/path), host:port nor https://host:port"));
  }
  return ServerAddress{false, std::move(target), tls};
}

std::optional<absl::Duration> RetryAfter(const grpc::ClientContext& ctx) {
  const auto& md = ctx.GetServerTrailingMetadata();
  auto it = md.find(kRetryAfterMetadataKey);
  if (it == md.end()) return std::nullopt;
  return ParseRetryAfter(std::string_view(it->second.data(), it->second.size()));
}

namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}

std::shared_ptr<grpc::ChannelCredentials> Credentials(const ServerAddress& address,
                                                      const TlsOptions& tls) {
  if (!address.tls) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = tls.root_certs_pem;
  options.pem_cert_chain = tls.client_cert_pem;
  options.pem_private_key = tls.client_key_pem;
  return grpc::SslCredentials(options);
}

grpc::ChannelArguments ChannelArgs() {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS,
              static_cast<int>(absl::ToInt64Milliseconds(kRetryFirstBackoff)));
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS,
              static_cast<int>(absl::ToInt64Milliseconds(kRetryMaxBackoff)));
  return args;
}

}  // namespace

absl::StatusOr<TlsOptions> LoadTlsOptions(std::string_view token_file_flag) {
  const std::string path =
      !token_file_flag.empty() ? std::string(token_file_flag) : Env(kTokenFileEnv);
  if (path.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("an https:// server needs a service token: pass --token-file FILE or set $",
                     kTokenFileEnv, " (a drocc admin makes one with `drocc admin token create`)"));
  }
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot read the token file ", path, ": ", std::strerror(errno)));
  }
  if ((st.st_mode & 077) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("the token file ", path,
                     " is readable by others; make it private first: chmod 600 ", path));
  }
  TlsOptions o;
  ASSIGN_OR_RETURN(o.token, ReadWholeFile(path, "the token file"));
  o.token = std::string(absl::StripAsciiWhitespace(o.token));
  if (!o.token.starts_with("drocc_") || o.token.find_first_of(" \t\r\n") != std::string::npos) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the token file ", path, " does not hold a drocc service token (one line, drocc_...)"));
  }
  if (std::string ca = Env(kCaCertEnv); !ca.empty()) {
    ASSIGN_OR_RETURN(o.root_certs_pem, ReadWholeFile(ca, "the CA certificate ($DROCC_CA_CERT)"));
  }
  if (std::string cert = Env(kClientCertEnv); !cert.empty()) {
    ASSIGN_OR_RETURN(o.client_cert_pem, ReadWholeFile(cert, "the client certificate"));
    ASSIGN_OR_RETURN(o.client_key_pem, ReadWholeFile(Env(kClientKeyEnv), "the client key"));
  }
  return o;
}

Connection::Connection(ServerAddress address, TlsOptions tls)
    : address_(std::move(address)),
      token_(std::move(tls.token)),
      channel_(
          grpc::CreateCustomChannel(address_.target, Credentials(address_, tls), ChannelArgs())),
      jobs_(v1::JobService::NewStub(channel_)),
      admin_(v1::AdminService::NewStub(channel_)),
      projects_(v1::ProjectService::NewStub(channel_)),
      health_(grpc::health::v1::Health::NewStub(channel_)) {}

absl::StatusOr<std::unique_ptr<grpc::ClientContext>> Connection::NewContext(
    std::string_view method, absl::Duration timeout) const {
  auto ctx = std::make_unique<grpc::ClientContext>();
  if (timeout > absl::ZeroDuration()) {
    ctx->set_deadline(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(timeout));
  }
  if (address_.tls) {
    ctx->AddMetadata("authorization", absl::StrCat("Bearer ", token_));
  } else if (!address_.is_unix) {
    auto cred = auth::MungeEncode(
        absl::string_view(method.data(), method.size()));  // payload: the method, as droccd checks
    if (!cred.ok()) return cred.status();
    ctx->AddMetadata("x-drocc-munge", *cred);
  }
  return ctx;
}

bool Connection::NeverDelivered(const grpc::Status& status) {
  const std::string& msg = status.error_message();
  return status.error_code() == grpc::StatusCode::UNAVAILABLE &&
         (absl::StrContains(msg, "failed to connect") ||
          absl::StrContains(msg, "Connection refused") || absl::StrContains(msg, "No such file") ||
          absl::StrContains(msg, "connections to all") ||
          absl::StrContains(msg, "DNS resolution failed"));
}

std::string Connection::Describe(const grpc::Status& status) const {
  const std::string& msg = status.error_message();
  if (NeverDelivered(status) || (status.error_code() == grpc::StatusCode::UNAVAILABLE &&
                                 absl::StrContains(msg, "Socket closed"))) {
    return absl::StrCat("cannot reach droccd at ", address_.target,
                        ": is it running? (choose another with --server or DROCC_SERVER",
                        address_.is_unix || address_.tls
                            ? ""
                            : "; for droccd's TLS listener write https://HOST:PORT",
                        ")");
  }
  if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    return absl::StrCat("droccd at ", address_.target, " did not answer in time; try again");
  }
  return msg.empty() ? absl::StrCat("call failed with status ", status.error_code()) : msg;
}

}  // namespace drocc::client
