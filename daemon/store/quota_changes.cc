#include "daemon/store/quota_changes.h"

#include <algorithm>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status.h"
#include "daemon/quota/amount.h"

namespace drocc::store {
namespace {

// "1 member", "2 members".
std::string Count(size_t n, const char* noun) {
  return absl::StrCat(n, " ", noun, n == 1 ? "" : "s");
}

// "3, 7, 9" with at most `max` items, then ", ...".
template <typename T>
std::string FewOf(const std::vector<T>& items, size_t max = 5) {
  std::vector<T> head(items.begin(), items.begin() + std::min(items.size(), max));
  return absl::StrCat(absl::StrJoin(head, ", "), items.size() > max ? ", ..." : "");
}

absl::Status UnknownProject(const std::string& what, const std::string& project) {
  return absl::FailedPreconditionError(absl::StrCat(what, " names project \"", project,
                                                    "\", which does not exist; create the "
                                                    "project first"));
}

absl::Status CheckProjectExists(QuotaTables& t, const std::string& what,
                                const std::string& project) {
  ASSIGN_OR_RETURN(bool exists, t.HasProject(project));
  return exists ? absl::OkStatus() : UnknownProject(what, project);
}

std::string MemberName(const quota::Member& m) { return absl::StrCat("member \"", m.user, "\""); }

std::string LimitName(const quota::Limit& l) {
  return l.user.empty() ? "the project-wide limit"
                        : absl::StrCat("the limit of user \"", l.user, "\"");
}

std::string GrantName(const StoredGrant& g) {
  return g.grant.id == 0 ? std::string("the new grant") : absl::StrCat("grant ", g.grant.id);
}

// Store::ApplyQuotaChanges' integrity rules, checked before each change is written.
absl::Status CheckPut(QuotaTables&, const quota::Account&) { return absl::OkStatus(); }

absl::Status CheckPut(QuotaTables& t, const quota::Project& p) {
  ASSIGN_OR_RETURN(bool exists, t.HasAccount(p.account));
  if (exists) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat("project \"", p.name, "\" names account \"",
                                                    p.account,
                                                    "\", which does not exist; create the "
                                                    "account first"));
}

absl::Status CheckPut(QuotaTables& t, const quota::Member& m) {
  return CheckProjectExists(t, MemberName(m), m.project);
}

absl::Status CheckPut(QuotaTables& t, const StoredGrant& g) {
  return CheckProjectExists(t, GrantName(g), g.grant.project);
}

absl::Status CheckPut(QuotaTables& t, const quota::Limit& l) {
  return CheckProjectExists(t, LimitName(l), l.project);
}

absl::Status CheckRemove(QuotaTables& t, const quota::Account& a) {
  ASSIGN_OR_RETURN(std::vector<std::string> projects, t.ProjectsOf(a.name));
  if (projects.empty()) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      "account \"", a.name, "\" still has ", Count(projects.size(), "project"), " (",
      FewOf(projects, 10), "); delete ", projects.size() == 1 ? "it" : "them", " first"));
}

// Names everything that still refers to the project, and what to do about each, at once:
// the admin should not discover the blockers one refusal at a time.
absl::Status CheckRemove(QuotaTables& t, const quota::Project& p) {
  ASSIGN_OR_RETURN(ProjectUse use, t.UseOf(p.name));
  std::vector<std::string> has;
  std::vector<std::string> todo;
  if (use.members > 0) {
    has.push_back(Count(use.members, "member"));
    todo.push_back(absl::StrCat("remove the member", use.members == 1 ? "" : "s"));
  }
  if (!use.grants.empty()) {
    has.push_back(absl::StrCat(Count(use.grants.size(), "grant"), " (", FewOf(use.grants), ")"));
    todo.push_back(absl::StrCat("delete the grant", use.grants.size() == 1 ? "" : "s",
                                " (a grant that has been charged cannot be deleted: "
                                "then keep the project and end its grants with valid_until)"));
  }
  if (use.limits > 0) {
    has.push_back(Count(use.limits, "limit"));
    todo.push_back(absl::StrCat("delete the limit", use.limits == 1 ? "" : "s"));
  }
  if (!use.open_jobs.empty()) {
    size_t n = use.open_jobs.size();
    has.push_back(absl::StrCat(Count(n, "job"), " not ended (", FewOf(use.open_jobs), ")"));
    todo.push_back(absl::StrCat("wait for the job", n == 1 ? "" : "s", " to end or cancel ",
                                n == 1 ? "it" : "them"));
  }
  if (has.empty()) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat("project \"", p.name, "\" still has ", absl::StrJoin(has, ", "),
                   "; before deleting it, ", absl::StrJoin(todo, "; ")));
}

absl::Status CheckRemove(QuotaTables&, const quota::Member&) { return absl::OkStatus(); }
absl::Status CheckRemove(QuotaTables&, const quota::Limit&) { return absl::OkStatus(); }

absl::Status CheckRemove(QuotaTables& t, const StoredGrant& g) {
  if (g.grant.id == 0) {
    return absl::InvalidArgumentError("a grant to delete needs its id (got 0)");
  }
  ASSIGN_OR_RETURN(queue::AmountMap charged, t.ChargedFrom(g.grant.id));
  if (charged.empty()) return absl::OkStatus();
  std::vector<std::string> amounts;
  for (const auto& [resource, milli] : charged) {
    amounts.push_back(quota::FormatAmount(quota::MilliUnits::FromMilli(milli), resource));
  }
  return absl::FailedPreconditionError(
      absl::StrCat("grant ", g.grant.id, " has been charged ", absl::StrJoin(amounts, " and "),
                   "; it cannot be deleted, end it early with an update of valid_until instead"));
}

}  // namespace

void StampAudit(AuditRecord& audit) {
  if (audit.time == absl::InfinitePast()) audit.time = absl::Now();
}

absl::StatusOr<uint64_t> ApplyQuotaChangeList(QuotaTables& tables,
                                              const std::vector<QuotaChange>& changes,
                                              AuditRecord audit) {
  uint64_t first_new_grant = 0;
  for (const QuotaChange& change : changes) {
    absl::Status s = std::visit(
        [&](const auto& value) -> absl::Status {
          if (change.remove) {
            RETURN_IF_ERROR(CheckRemove(tables, value));
            return tables.Remove(value);
          }
          RETURN_IF_ERROR(CheckPut(tables, value));
          if constexpr (std::is_same_v<std::decay_t<decltype(value)>, StoredGrant>) {
            ASSIGN_OR_RETURN(quota::GrantId id, tables.Put(value));
            if (value.grant.id == 0 && first_new_grant == 0) first_new_grant = id;
            return absl::OkStatus();
          } else {
            return tables.Put(value);
          }
        },
        change.value);
    RETURN_IF_ERROR(s);
  }
  StampAudit(audit);
  RETURN_IF_ERROR(tables.Append(audit));
  return first_new_grant;
}

}  // namespace drocc::store
