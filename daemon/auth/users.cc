#include "daemon/auth/users.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"

namespace drocc::auth {
namespace {

absl::StatusOr<UserInfo> FromPasswd(const passwd& pw) {
  UserInfo info{.uid = pw.pw_uid, .gid = pw.pw_gid, .name = pw.pw_name, .home = pw.pw_dir};
  int n = 64;
  std::vector<gid_t> groups(n);
  while (getgrouplist(pw.pw_name, pw.pw_gid, groups.data(), &n) < 0) {
    groups.resize(n);
  }
  groups.resize(n);
  info.groups.assign(groups.begin(), groups.end());
  return info;
}

}  // namespace

absl::StatusOr<UserInfo> LookupUser(uint32_t uid) {
  passwd pw{};
  passwd* result = nullptr;
  std::vector<char> buf(16384);
  int rc = getpwuid_r(uid, &pw, buf.data(), buf.size(), &result);
  if (rc != 0 || result == nullptr) {
    return absl::NotFoundError(absl::StrCat("uid ", uid, " has no user account on this host"));
  }
  return FromPasswd(pw);
}

absl::StatusOr<UserInfo> LookupUserByName(const std::string& name) {
  passwd pw{};
  passwd* result = nullptr;
  std::vector<char> buf(16384);
  int rc = getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &result);
  if (rc != 0 || result == nullptr) {
    return absl::NotFoundError(absl::StrCat("no user \"", name, "\" on this host"));
  }
  return FromPasswd(pw);
}

absl::StatusOr<uint32_t> LookupGroup(const std::string& name) {
  group gr{};
  group* result = nullptr;
  std::vector<char> buf(65536);
  int rc = getgrnam_r(name.c_str(), &gr, buf.data(), buf.size(), &result);
  if (rc != 0 || result == nullptr) {
    return absl::NotFoundError(absl::StrCat("no group \"", name, "\" on this host"));
  }
  return static_cast<uint32_t>(gr.gr_gid);
}

}  // namespace drocc::auth
