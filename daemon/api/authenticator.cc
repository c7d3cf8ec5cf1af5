#include "daemon/api/authenticator.h"

#include <grpcpp/security/auth_context.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "daemon/auth/munge.h"
#include "daemon/auth/users.h"

namespace drocc::api {
namespace {

std::optional<std::string_view> Metadata(const grpc::ServerContextBase& ctx, const char* key) {
  const auto& md = ctx.client_metadata();
  auto it = md.find(key);
  if (it == md.end()) return std::nullopt;
  return std::string_view(it->second.data(), it->second.size());
}

// Whether the call came over TLS (the TLS listener), from the transport's auth context.
bool OverTls(const grpc::ServerContextBase& ctx) {
  std::shared_ptr<const grpc::AuthContext> auth = ctx.auth_context();
  if (!auth) return false;
  for (const grpc::string_ref& v : auth->FindPropertyValues("transport_security_type")) {
    if (std::string_view(v.data(), v.size()) == "ssl") return true;
  }
  return false;
}

}  // namespace

absl::StatusOr<auth::Caller> Authenticator::Authenticate(const grpc::ServerContextBase& ctx,
                                                         absl::string_view method) const {
  const std::string_view rpc(method.data(), method.size());
  absl::StatusOr<auth::Caller> caller = Identify(ctx, method);
  if (!caller.ok()) {
    // An RPC only a job token may call says that, rather than what else the call lacks.
    if (absl::Status s = policy_->CheckMethod(auth::Caller{}, rpc); !s.ok()) return s;
    return caller;
  }
  absl::Status allowed = policy_->CheckMethod(*caller, rpc);
  if (caller->via == auth::Via::kServiceToken) {
    tokens_->RecordUse(caller->token_id, rpc, caller->peer, allowed);  // every use is audited
  }
  if (!allowed.ok()) return allowed;
  return caller;
}

absl::StatusOr<auth::Caller> Authenticator::Identify(const grpc::ServerContextBase& ctx,
                                                     absl::string_view method) const {
  auth::Caller caller;
  caller.peer = ctx.peer();
  if (Metadata(ctx, kJobTokenMetadataKey)) {
    // A job speaking for itself; RuntimeService checks the token against the job.
    caller.via = auth::Via::kJobToken;
    return caller;
  }
  std::optional<std::string_view> bearer = Metadata(ctx, kAuthorizationMetadataKey);
  if (OverTls(ctx)) {
    if (!bearer || !bearer->starts_with("Bearer ")) {
      return absl::UnauthenticatedError(
          "droccd's TLS listener needs a service token on every call (\"authorization: Bearer "
          "drocc_...\"); the drocc CLI sends the one in --token-file or $DROCC_TOKEN_FILE");
    }
    if (tokens_ == nullptr) return absl::UnauthenticatedError("this droccd has no service tokens");
    absl::StatusOr<store::ServiceTokenRecord> token = tokens_->Verify(
        bearer->substr(7), std::string_view(method.data(), method.size()), caller.peer);
    if (!token.ok()) return token.status();
    auto user = User(token->uid);
    if (!user.ok() || user->name != token->user) {
      return absl::UnauthenticatedError(
          absl::StrCat("service token ", token->id, " is for user ", token->user,
                       ", who no longer has that account on the droccd host"));
    }
    caller.uid = token->uid;
    caller.gid = user->gid;
    caller.user = user->name;
    caller.via = auth::Via::kServiceToken;
    caller.token_id = token->id;
    caller.token_project = token->project;
    return caller;  // never an admin
  }
  if (bearer) {
    return absl::UnauthenticatedError(
        "service tokens are accepted only on droccd's TLS listener (a https:// server address); "
        "nothing is sent in clear");
  }
  if (auto peer = peers_->Lookup(caller.peer)) {
    caller.uid = peer->uid;
    caller.gid = peer->gid;
    caller.via = auth::Via::kUnixSocket;
  } else {
    std::optional<std::string_view> cred = Metadata(ctx, kMungeMetadataKey);
    if (!cred) {
      return absl::UnauthenticatedError(
          "this call carries no MUNGE credential; droccd's TCP listener needs one on every call "
          "(the drocc client adds it when munged runs on the client host)");
    }
    auto id = auth::MungeDecode(std::string(*cred), method, options_.munge_max_age_s);
    if (!id.ok()) return id.status();
    caller.uid = id->uid;
    caller.gid = id->gid;
    caller.via = auth::Via::kMunge;
  }
  auto user = User(caller.uid);
  if (!user.ok()) {
    return absl::UnauthenticatedError(
        absl::StrCat("uid ", caller.uid, " has no user account on the droccd host"));
  }
  caller.user = user->name;
  caller.is_admin = caller.uid == 0 ||
                    (options_.admin_gid && std::find(user->groups.begin(), user->groups.end(),
                                                     *options_.admin_gid) != user->groups.end());
  return caller;
}

absl::StatusOr<auth::UserInfo> Authenticator::User(uint32_t uid) const {
  absl::Time now = clock_->Now();
  {
    std::lock_guard lock(mu_);
    auto it = users_.find(uid);
    if (it != users_.end() && it->second.expires > now) return it->second.info;
  }
  auto info = auth::LookupUser(uid);  // outside the lock: NSS may be slow
  if (!info.ok()) return info.status();
  std::lock_guard lock(mu_);
  if (users_.size() > 10000) users_.clear();  // bounded; refilled on demand
  users_[uid] = {*info, now + options_.user_cache_ttl};
  return info;
}

}  // namespace drocc::api
