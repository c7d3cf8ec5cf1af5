#include "daemon/quota/model.h"

#include <algorithm>
#include <cctype>

#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace drocc::quota {
namespace {

absl::Status CheckName(std::string_view what, const std::string& name) {
  bool ok = !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(std::string(what), " name \"", name,
                                                 "\" is not valid; use 1 to 64 letters, digits, "
                                                 "'-', '_' or '.'"));
}

}  // namespace

const char* AccountKindName(AccountKind k) {
  switch (k) {
    case AccountKind::kLab:
      return "lab";
    case AccountKind::kSme:
      return "sme";
    case AccountKind::kInternal:
      return "internal";
  }
  return "unknown";
}

std::optional<AccountKind> ParseAccountKind(std::string_view name) {
  for (AccountKind k : {AccountKind::kLab, AccountKind::kSme, AccountKind::kInternal}) {
    if (name == AccountKindName(k)) return k;
  }
  return std::nullopt;
}

const char* ProjectRoleName(ProjectRole r) {
  switch (r) {
    case ProjectRole::kMember:
      return "member";
    case ProjectRole::kManager:
      return "manager";
  }
  return "unknown";
}

std::optional<ProjectRole> ParseProjectRole(std::string_view name) {
  for (ProjectRole r : {ProjectRole::kMember, ProjectRole::kManager}) {
    if (name == ProjectRoleName(r)) return r;
  }
  return std::nullopt;
}

absl::Status ValidateAccount(const Account& a) { return CheckName("account", a.name); }

absl::Status ValidateProject(const Project& p) {
  RETURN_IF_ERROR(CheckName("project", p.name));
  RETURN_IF_ERROR(CheckName("account", p.account));
  if (p.share == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("project \"", p.name, "\" has share 0; use a share of 1 or more"));
  }
  return absl::OkStatus();
}

absl::Status ValidateMember(const Member& m) {
  RETURN_IF_ERROR(CheckName("project", m.project));
  return CheckName("user", m.user);
}

absl::Status ValidateGrant(const Grant& g) {
  RETURN_IF_ERROR(CheckName("project", g.project));
  if (!g.amount.is_positive() || g.amount > kMaxAmount) {
    return absl::InvalidArgumentError(absl::StrCat("grant ", g.id, " has amount ",
                                                   FormatMilli(g.amount),
                                                   "; use more than 0.0 "
                                                   "and at most ",
                                                   FormatMilli(kMaxAmount)));
  }
  if (g.resource >= kMaxResources) {
    return absl::InvalidArgumentError(
        absl::StrCat("grant ", g.id, " names no known resource; use one the site defines"));
  }
  if (g.valid_until <= g.valid_from) {
    return absl::InvalidArgumentError(
        absl::StrCat("grant ", g.id, " ends before it starts; make valid_until later than ",
                     absl::FormatTime(g.valid_from)));
  }
  return absl::OkStatus();
}

absl::Status ValidateLimit(const Limit& l) {
  RETURN_IF_ERROR(CheckName("project", l.project));
  if (!l.user.empty()) RETURN_IF_ERROR(CheckName("user", l.user));
  if (l.max_walltime < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "limit for project \"", l.project, "\" has a negative maximum walltime; use 0 for none"));
  }
  return absl::OkStatus();
}

}  // namespace drocc::quota
