#pragma once

// Unix users and groups, through NSS (getpwuid_r, getgrouplist). Thread-safe.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace drocc::auth {

struct UserInfo {
  uint32_t uid = 0;
  uint32_t gid = 0;  // primary group
  std::string name;
  std::string home;
  std::vector<uint32_t> groups;  // every group, primary included
};

// NOT_FOUND when the uid has no passwd entry.
absl::StatusOr<UserInfo> LookupUser(uint32_t uid);
absl::StatusOr<UserInfo> LookupUserByName(const std::string& name);
// The gid of a group name; NOT_FOUND if there is none.
absl::StatusOr<uint32_t> LookupGroup(const std::string& name);

}  // namespace drocc::auth
