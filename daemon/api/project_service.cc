#include "daemon/api/project_service.h"

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "daemon/api/convert.h"
#include "daemon/api/quota_convert.h"
#include "daemon/api/request_bounds.h"

namespace drocc::api {
namespace {

using manager::QuotaBook;

// The projects a request covers: `project`, or every project of the caller (admins: every
// project). PERMISSION_DENIED per Policy::CheckProjectView.
absl::StatusOr<std::vector<std::string>> Projects(const Policy& policy, const auth::Caller& caller,
                                                  const QuotaBook& book,
                                                  const std::string& requested, bool per_user) {
  std::vector<std::string> out;
  ASSIGN_OR_RETURN(const std::string project, policy.ScopedProject(caller, requested));
  if (!project.empty()) {
    if (absl::Status s = policy.CheckProjectView(caller, project,
                                                 book.FindMember(project, caller.user), per_user);
        !s.ok()) {
      return s;
    }
    if (!book.projects().contains(project)) {
      return absl::NotFoundError(absl::StrCat("project \"", project, "\" does not exist"));
    }
    out.push_back(project);
    return out;
  }
  if (caller.is_admin) {
    for (const auto& [name, p] : book.projects()) out.push_back(name);
    return out;
  }
  for (const quota::Member& m : book.MembershipsOf(caller.user)) {
    if (per_user && m.role != quota::ProjectRole::kManager) continue;
    out.push_back(m.project);
  }
  return out;
}

}  // namespace

void AddBalances(const QuotaBook& book, const std::string& project, absl::Time now,
                 google::protobuf::RepeatedPtrField<v1::Balance>* out) {
  const quota::ResourceCatalog& catalog = book.catalog();
  const quota::ProjectBudget budget = book.ledger().Budget(project, now);
  const std::vector<quota::GrantStatus> grants = book.ledger().Grants(project, now);
  for (size_t i = 0; i < catalog.size(); ++i) {
    const auto r = static_cast<quota::ResourceId>(i);
    if (!budget.ever_granted[r] && budget.reserved[r].is_zero()) continue;
    absl::Time next_expiry = absl::InfiniteFuture();
    for (const quota::GrantStatus& g : grants) {
      if (g.active && g.grant.resource == r && g.grant.valid_until < next_expiry) {
        next_expiry = g.grant.valid_until;
      }
    }
    ToProto(project, catalog.Name(r),
            book.ledger().Balance(project, r, now, book.options().expiring_window), next_expiry,
            out->Add());
  }
}

grpc::ServerUnaryReactor* ProjectServiceImpl::ListMyProjects(grpc::CallbackServerContext* ctx,
                                                             const v1::ListMyProjectsRequest*,
                                                             v1::ListMyProjectsResponse* resp) {
  auto* reactor = ctx->DefaultReactor();
  auto caller = deps_.authenticator->Authenticate(*ctx, "/drocc.v1.ProjectService/ListMyProjects");
  if (!caller.ok()) {
    reactor->Finish(ToGrpc(caller.status()));
    return reactor;
  }
  deps_.manager->ReadQuota([reactor, resp, caller = *caller](const QuotaBook& book, absl::Time) {
    for (const quota::Member& m : book.MembershipsOf(caller.user)) {
      // A service token sees its own project only.
      if (caller.via == auth::Via::kServiceToken && m.project != caller.token_project) continue;
      auto it = book.projects().find(m.project);
      if (it != book.projects().end()) ToProto(it->second, resp->add_projects());
      ToProto(m, resp->add_memberships());
    }
    reactor->Finish(grpc::Status::OK);
  });
  return reactor;
}

grpc::ServerUnaryReactor* ProjectServiceImpl::ReadProjects(grpc::CallbackServerContext* ctx,
                                                           const char* method,
                                                           const google::protobuf::Message& req,
                                                           std::string project, bool per_user,
                                                           ProjectsReader read) {
  auto* reactor = ctx->DefaultReactor();
  auto caller = deps_.authenticator->Authenticate(*ctx, method);
  absl::Status s = caller.status();
  if (s.ok()) s = CheckRequestBounds(req);
  if (!s.ok()) {
    reactor->Finish(ToGrpc(s));
    return reactor;
  }
  deps_.manager->ReadQuota([this, reactor, caller = *caller, project = std::move(project), per_user,
                            read = std::move(read)](const QuotaBook& book, absl::Time now) {
    auto projects = Projects(*deps_.policy, caller, book, project, per_user);
    reactor->Finish(ToGrpc(projects.ok() ? read(book, now, *projects) : projects.status()));
  });
  return reactor;
}

grpc::ServerUnaryReactor* ProjectServiceImpl::GetBalance(grpc::CallbackServerContext* ctx,
                                                         const v1::GetBalanceRequest* req,
                                                         v1::GetBalanceResponse* resp) {
  return ReadProjects(
      ctx, "/drocc.v1.ProjectService/GetBalance", *req, req->project(), false,
      [resp](const QuotaBook& book, absl::Time now, const std::vector<std::string>& projects) {
        for (const std::string& p : projects) {
          AddBalances(book, p, now, resp->mutable_balances());
        }
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* ProjectServiceImpl::ListGrants(grpc::CallbackServerContext* ctx,
                                                         const v1::ListProjectGrantsRequest* req,
                                                         v1::ListProjectGrantsResponse* resp) {
  return ReadProjects(
      ctx, "/drocc.v1.ProjectService/ListGrants", *req, req->project(), false,
      [req, resp](const QuotaBook& book, absl::Time now, const std::vector<std::string>& projects) {
        for (const std::string& p : projects) {
          for (const quota::GrantStatus& g : book.ledger().Grants(p, now)) {
            if (!req->include_expired() && g.grant.valid_until <= now) continue;
            ToProto(g, book.catalog(), resp->add_grants());
          }
        }
        return absl::OkStatus();
      });
}

absl::Status ToUsageQuery(const v1::TimeRange& range, bool per_user, bool per_month,
                          store::UsageQuery& q) {
  q.per_user = per_user;
  q.per_month = per_month;
  q.from = FromProtoTime(range.from(), absl::InfinitePast());
  q.until = FromProtoTime(range.until(), absl::InfiniteFuture());
  if (q.until <= q.from) {
    return absl::InvalidArgumentError(
        "the time range ends before it starts; swap --from and --until");
  }
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* ProjectServiceImpl::GetUsage(grpc::CallbackServerContext* ctx,
                                                       const v1::GetUsageRequest* req,
                                                       v1::GetUsageResponse* resp) {
  store::UsageQuery query;
  if (absl::Status s = ToUsageQuery(req->range(), req->per_user(), req->per_month(), query);
      !s.ok()) {
    auto* reactor = ctx->DefaultReactor();
    reactor->Finish(ToGrpc(s));
    return reactor;
  }
  return ReadProjects(ctx, "/drocc.v1.ProjectService/GetUsage", *req, req->project(),
                      req->per_user(),
                      [this, resp, query](const QuotaBook&, absl::Time,
                                          const std::vector<std::string>& projects) mutable {
                        if (projects.empty()) return absl::OkStatus();
                        query.projects = projects;
                        auto rows = deps_.store->QueryUsage(query);
                        if (!rows.ok()) return rows.status();
                        for (const store::UsageRow& r : *rows) ToProto(r, resp->add_rows());
                        return absl::OkStatus();
                      });
}

}  // namespace drocc::api
