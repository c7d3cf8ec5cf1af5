#include "client/lib/connection.h"

#include <grpcpp/create_channel.h>

#include <chrono>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/retry_after.h"
#include "daemon/auth/munge.h"

namespace drocc::client {

absl::StatusOr<ServerAddress> ResolveServerAddress(std::string_view flag, const char* env) {
  std::string raw(!flag.empty()                        ? flag
                  : (env != nullptr && env[0] != '\0') ? std::string_view(env)
                                                       : std::string_view(kDefaultServer));
  if (raw.starts_with("unix:")) return ServerAddress{true, raw};
  if (raw.starts_with("/")) return ServerAddress{true, absl::StrCat("unix:", raw)};
  size_t colon = raw.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == raw.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "server address \"", raw, "\" is neither a socket path (unix:/path) nor host:port"));
  }
  return ServerAddress{false, raw};
}

std::optional<absl::Duration> RetryAfter(const grpc::ClientContext& ctx) {
  const auto& md = ctx.GetServerTrailingMetadata();
  auto it = md.find(kRetryAfterMetadataKey);
  if (it == md.end()) return std::nullopt;
  return ParseRetryAfter(std::string_view(it->second.data(), it->second.size()));
}

Connection::Connection(ServerAddress address)
    : address_(std::move(address)),
      channel_(grpc::CreateChannel(address_.target, grpc::InsecureChannelCredentials())),
      jobs_(v1::JobService::NewStub(channel_)),
      admin_(v1::AdminService::NewStub(channel_)),
      projects_(v1::ProjectService::NewStub(channel_)) {}

absl::StatusOr<std::unique_ptr<grpc::ClientContext>> Connection::NewContext(
    std::string_view method, absl::Duration timeout) const {
  auto ctx = std::make_unique<grpc::ClientContext>();
  if (timeout > absl::ZeroDuration()) {
    ctx->set_deadline(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(timeout));
  }
  if (!address_.is_unix) {
    auto cred = auth::MungeEncode(
        absl::string_view(method.data(), method.size()));  // payload: the method, as droccd checks
    if (!cred.ok()) return cred.status();
    ctx->AddMetadata("x-drocc-munge", *cred);
  }
  return ctx;
}

std::string Connection::Describe(const grpc::Status& status) const {
  const std::string& msg = status.error_message();
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE &&
      (absl::StrContains(msg, "failed to connect") ||
       absl::StrContains(msg, "Connection refused") || absl::StrContains(msg, "No such file") ||
       absl::StrContains(msg, "connections to all") ||
       absl::StrContains(msg, "DNS resolution failed") ||
       absl::StrContains(msg, "Socket closed"))) {
    return absl::StrCat("cannot reach droccd at ", address_.target,
                        ": is it running? (choose another with --server or DROCC_SERVER)");
  }
  if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    return absl::StrCat("droccd at ", address_.target, " did not answer in time; try again");
  }
  return msg.empty() ? absl::StrCat("call failed with status ", status.error_code()) : msg;
}

}  // namespace drocc::client
