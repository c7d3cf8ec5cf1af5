#include "daemon/api/quota_convert.h"

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "daemon/api/convert.h"

namespace drocc::api {

void ToProto(const quota::Account& a, v1::Account* out) {
  out->set_name(a.name);
  out->set_kind(static_cast<v1::AccountKind>(static_cast<int>(a.kind)));
  out->set_description(a.description);
  SetTime(a.create_time, out->mutable_create_time());
}

void ToProto(const quota::Project& p, v1::Project* out) {
  out->set_name(p.name);
  out->set_account(p.account);
  out->set_description(p.description);
  out->set_share(p.share);
  SetTime(p.create_time, out->mutable_create_time());
}

void ToProto(const quota::Member& m, v1::Member* out) {
  out->set_project(m.project);
  out->set_user(m.user);
  out->set_role(static_cast<v1::ProjectRole>(static_cast<int>(m.role)));
  out->set_is_default(m.is_default);
}

void ToProto(const quota::Limit& l, v1::Limit* out) {
  out->set_project(l.project);
  out->set_user(l.user);
  out->set_max_gpus(l.max_gpus);
  out->set_max_cpus(l.max_cpus);
  out->set_max_nodes(l.max_nodes);
  out->set_max_pending_jobs(l.max_pending_jobs);
  out->set_max_walltime_s(absl::ToInt64Seconds(l.max_walltime));
}

void ToProto(const quota::GrantStatus& g, const quota::ResourceCatalog& catalog, v1::Grant* out) {
  const std::string& resource = catalog.Name(g.grant.resource);
  out->set_id(g.grant.id);
  out->set_project(g.grant.project);
  out->mutable_amount()->set_resource(resource);
  out->mutable_amount()->set_milli(g.grant.amount.milli());
  SetTime(g.grant.valid_from, out->mutable_valid_from());
  SetTime(g.grant.valid_until, out->mutable_valid_until());
  out->set_reference(g.grant.reference);
  out->mutable_used()->set_resource(resource);
  out->mutable_used()->set_milli(g.charged.milli());
  out->mutable_lapsed()->set_resource(resource);
  out->mutable_lapsed()->set_milli(g.lapsed.milli());
}

void ToProto(const store::AuditRecord& r, v1::AuditEvent* out) {
  out->set_id(r.id);
  SetTime(r.time, out->mutable_time());
  out->set_user(r.user);
  out->set_peer(r.peer);
  out->set_action(r.action);
  out->set_target(r.target);
  out->set_details(r.details);
  out->set_ok(r.ok);
}

void ToProto(const store::UsageRow& r, v1::UsageRow* out) {
  out->set_project(r.project);
  out->set_user(r.user);
  out->set_month(r.month);
  out->mutable_amount()->set_resource(r.resource);
  out->mutable_amount()->set_milli(r.milli);
  out->set_jobs(r.jobs);
}

void ToProto(const std::string& project, const std::string& resource,
             const quota::ResourceBalance& b, absl::Time next_expiry, v1::Balance* out) {
  out->set_project(project);
  out->set_resource(resource);
  out->set_granted_milli(b.granted.milli());
  out->set_charged_milli(b.charged.milli());
  out->set_reserved_milli(b.reserved.milli());
  out->set_available_milli(b.available.milli());
  out->set_expiring_soon_milli(b.expiring_soon.milli());
  SetTime(next_expiry, out->mutable_next_expiry());
  out->set_lapsed_milli(b.lapsed.milli());
  out->set_upcoming_milli(b.upcoming.milli());
  out->set_overdraft_milli(b.overdraft.milli());
  out->set_holders(b.holders);
}

absl::StatusOr<quota::Account> FromProto(const v1::Account& a) {
  quota::Account out{.name = a.name(), .description = a.description()};
  switch (a.kind()) {
    case v1::ACCOUNT_KIND_LAB:
      out.kind = quota::AccountKind::kLab;
      break;
    case v1::ACCOUNT_KIND_SME:
      out.kind = quota::AccountKind::kSme;
      break;
    case v1::ACCOUNT_KIND_INTERNAL:
      out.kind = quota::AccountKind::kInternal;
      break;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("account \"", a.name(), "\" needs a kind: lab, sme or internal"));
  }
  return out;
}

absl::StatusOr<quota::Project> FromProto(const v1::Project& p) {
  return quota::Project{.name = p.name(),
                        .account = p.account(),
                        .share = p.share() == 0 ? 1 : p.share(),
                        .description = p.description()};
}

absl::StatusOr<quota::Member> FromProto(const v1::Member& m) {
  quota::Member out{.project = m.project(), .user = m.user(), .is_default = m.is_default()};
  switch (m.role()) {
    case v1::PROJECT_ROLE_UNSPECIFIED:
    case v1::PROJECT_ROLE_MEMBER:
      out.role = quota::ProjectRole::kMember;
      break;
    case v1::PROJECT_ROLE_MANAGER:
      out.role = quota::ProjectRole::kManager;
      break;
    default:
      return absl::InvalidArgumentError("a member's role is member or manager");
  }
  return out;
}

absl::StatusOr<quota::Limit> FromProto(const v1::Limit& l) {
  if (l.max_walltime_s() < 0) {
    return absl::InvalidArgumentError("the maximum walltime cannot be negative; 0 means none");
  }
  return quota::Limit{.project = l.project(),
                      .user = l.user(),
                      .max_gpus = l.max_gpus(),
                      .max_cpus = l.max_cpus(),
                      .max_nodes = l.max_nodes(),
                      .max_pending_jobs = l.max_pending_jobs(),
                      .max_walltime = absl::Seconds(l.max_walltime_s())};
}

absl::StatusOr<quota::Grant> FromProto(const v1::Grant& g, const quota::ResourceCatalog& catalog,
                                       absl::Time now) {
  quota::Grant out;
  out.id = g.id();
  out.project = g.project();
  const std::string resource = g.amount().resource().empty() ? "gpu-hours" : g.amount().resource();
  ASSIGN_OR_RETURN(out.resource, catalog.Parse(resource));
  out.amount = quota::MilliUnits::FromMilli(g.amount().milli());
  const absl::Time today =
      absl::FromUnixSeconds(absl::ToUnixSeconds(now) - absl::ToUnixSeconds(now) % 86400);
  out.valid_from = FromProtoTime(g.valid_from(), today);
  out.valid_until = FromProtoTime(g.valid_until(), absl::InfiniteFuture());
  out.reference = g.reference();
  return out;
}

}  // namespace drocc::api
