#pragma once

// The quota model of SPEC §4 as plain values: who pays (accounts, projects, members), with
// what (grants) and within which bounds (limits). No storage, no API: the store persists these
// and the Ledger, limits and admission read them.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "daemon/quota/amount.h"
#include "daemon/quota/resources.h"

namespace drocc::quota {

enum class AccountKind : int { kLab = 1, kSme = 2, kInternal = 3 };
// "lab", "sme", "internal".
const char* AccountKindName(AccountKind k);
std::optional<AccountKind> ParseAccountKind(std::string_view name);

// An organisation that receives grants through its projects.
struct Account {
  std::string name;
  AccountKind kind = AccountKind::kLab;
  std::string description;
  absl::Time create_time = absl::InfinitePast();
  bool operator==(const Account&) const = default;
};

// A budget holder inside an account. `share` weighs it in fair share: a project with share 2
// may use twice as much as one with share 1 before it waits behind it.
struct Project {
  std::string name;
  std::string account;
  uint32_t share = 1;
  std::string description;
  absl::Time create_time = absl::InfinitePast();
  bool operator==(const Project&) const = default;
};

enum class ProjectRole : int { kMember = 1, kManager = 2 };
// "member", "manager".
const char* ProjectRoleName(ProjectRole r);
std::optional<ProjectRole> ParseProjectRole(std::string_view name);

// A Unix user in a project. At most one membership per user is the default (the project a
// submission uses when it names none).
struct Member {
  std::string project;
  std::string user;
  ProjectRole role = ProjectRole::kMember;
  bool is_default = false;
  bool operator==(const Member&) const = default;
};

using GrantId = uint64_t;

// `amount` of one resource for `project`, usable for work done in [valid_from, valid_until).
struct Grant {
  GrantId id = 0;
  std::string project;
  ResourceId resource = kGpuHours;
  MilliUnits amount;
  absl::Time valid_from = absl::InfinitePast();
  absl::Time valid_until = absl::InfiniteFuture();
  std::string reference;  // the funder's reference, e.g. "EuroHPC-2026-117"
  bool operator==(const Grant&) const = default;

  bool ActiveAt(absl::Time t) const { return valid_from <= t && t < valid_until; }
};

// Caps for a project (user empty) or for one user inside a project. 0 means unlimited.
struct Limit {
  std::string project;
  std::string user;  // "" = project-wide
  uint32_t max_gpus = 0;
  uint32_t max_cpus = 0;
  uint32_t max_nodes = 0;
  uint32_t max_pending_jobs = 0;
  absl::Duration max_walltime = absl::ZeroDuration();
  bool operator==(const Limit&) const = default;
};

// INVALID_ARGUMENT with what to fix: a name that is empty or has characters other than
// letters, digits, '-', '_', '.'; a share of 0.
absl::Status ValidateAccount(const Account& a);
absl::Status ValidateProject(const Project& p);
absl::Status ValidateMember(const Member& m);
// Also: an amount that is not positive or above kMaxAmount, valid_until not after valid_from.
absl::Status ValidateGrant(const Grant& g);
// Also: a negative walltime.
absl::Status ValidateLimit(const Limit& l);

}  // namespace drocc::quota
