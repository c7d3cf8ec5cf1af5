#include "daemon/api/authenticator.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "daemon/auth/munge.h"
#include "daemon/auth/users.h"

namespace drocc::api {

absl::StatusOr<auth::Caller> Authenticator::Authenticate(const grpc::ServerContextBase& ctx,
                                                         absl::string_view method) const {
  auth::Caller caller;
  caller.peer = ctx.peer();
  if (auto cred = peers_->Lookup(caller.peer)) {
    caller.uid = cred->uid;
    caller.gid = cred->gid;
    caller.method = "unix-peercred";
  } else {
    const auto& md = ctx.client_metadata();
    auto it = md.find(kMungeMetadataKey);
    if (it == md.end()) {
      return absl::UnauthenticatedError(
          "this call carries no MUNGE credential; droccd's TCP listener needs one on every call "
          "(the drocc client adds it when munged runs on the client host)");
    }
    auto id = auth::MungeDecode(std::string(it->second.data(), it->second.size()), method,
                                options_.munge_max_age_s);
    if (!id.ok()) return id.status();
    caller.uid = id->uid;
    caller.gid = id->gid;
    caller.method = "munge";
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
