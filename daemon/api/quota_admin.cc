// AdminService: the quota model, usage reports and the audit log.

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "daemon/api/admin_service.h"
#include "daemon/api/convert.h"
#include "daemon/api/quota_convert.h"
#include "daemon/api/request_bounds.h"
#include "daemon/auth/users.h"

namespace drocc::api {
namespace {

constexpr char kPrefix[] = "/drocc.v1.AdminService/";
constexpr uint32_t kDefaultAuditPage = 100;
constexpr uint32_t kMaxAuditPage = 1000;

using manager::QuotaOp;
using manager::QuotaRecord;
using manager::QuotaRequest;

std::vector<std::string> Paths(const google::protobuf::FieldMask& mask) {
  return {mask.paths().begin(), mask.paths().end()};
}

// Members and per-user limits name Unix users: a typo must not create a membership nobody has.
absl::Status CheckUser(const std::string& user) {
  if (user.empty()) return absl::OkStatus();
  if (auth::LookupUserByName(user).ok()) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("there is no user \"", user,
                   "\" on the droccd host; check the name (getent passwd ", user, ")"));
}

template <typename T>
absl::StatusOr<QuotaRequest> Request(QuotaOp op, absl::StatusOr<T> record,
                                     std::vector<std::string> fields = {}) {
  if (!record.ok()) return record.status();
  return QuotaRequest{
      .op = op, .record = *std::move(record), .fields = std::move(fields), .audit = {}};
}

// Fills a response of type Msg from the record of type T.
template <typename T, typename Msg>
AdminServiceImpl::Fill FillWith(Msg* resp) {
  return [resp](const QuotaRecord& r) { ToProto(std::get<T>(r), resp); };
}

AdminServiceImpl::Fill Nothing() {
  return [](const QuotaRecord&) {};
}

}  // namespace

grpc::ServerUnaryReactor* AdminServiceImpl::Change(grpc::CallbackServerContext* ctx,
                                                   const char* rpc,
                                                   const google::protobuf::Message& req,
                                                   std::string target, Build build, Fill fill) {
  auto* reactor = ctx->DefaultReactor();
  auto caller = deps_.authenticator->Authenticate(*ctx, absl::StrCat(kPrefix, rpc));
  if (!caller.ok()) {
    reactor->Finish(ToGrpc(caller.status()));
    return reactor;
  }
  store::AuditRecord audit = NewAudit(*caller, rpc, std::move(target), req, deps_.clock->Now());
  absl::Status s = deps_.policy->CheckAdmin(*caller, absl::StrCat(rpc));
  if (s.ok()) s = CheckRequestBounds(req);
  absl::StatusOr<QuotaRequest> request = s.ok() ? build() : s;
  if (!request.ok()) {
    AppendAudit(*deps_.store, std::move(audit), request.status());
    reactor->Finish(ToGrpc(request.status()));
    return reactor;
  }
  request->audit = std::move(audit);
  // The manager writes the audit record with the change, or a refused one if it fails.
  deps_.manager->ChangeQuota(*std::move(request),
                             [reactor, fill = std::move(fill)](absl::StatusOr<QuotaRecord> r) {
                               if (!r.ok()) return reactor->Finish(ToGrpc(r.status()));
                               fill(*r);
                               reactor->Finish(grpc::Status::OK);
                             });
  return reactor;
}

grpc::ServerUnaryReactor* AdminServiceImpl::AdminRead(grpc::CallbackServerContext* ctx,
                                                      const char* rpc, Read read) {
  auto* reactor = ctx->DefaultReactor();
  auto caller = deps_.authenticator->Authenticate(*ctx, absl::StrCat(kPrefix, rpc));
  absl::Status s = caller.status();
  if (s.ok()) s = deps_.policy->CheckAdmin(*caller, rpc);
  if (!s.ok()) {
    reactor->Finish(ToGrpc(s));
    return reactor;
  }
  deps_.manager->ReadQuota(
      [reactor, read = std::move(read)](const manager::QuotaBook& book, absl::Time now) {
        reactor->Finish(ToGrpc(read(book, now)));
      });
  return reactor;
}

// ---- Accounts ----

grpc::ServerUnaryReactor* AdminServiceImpl::CreateAccount(grpc::CallbackServerContext* ctx,
                                                          const v1::CreateAccountRequest* req,
                                                          v1::Account* resp) {
  return Change(
      ctx, "CreateAccount", *req, absl::StrCat("account ", req->account().name()),
      [this, req] {
        auto a = FromProto(req->account());
        if (a.ok()) a->create_time = deps_.clock->Now();
        return Request(QuotaOp::kCreate, std::move(a));
      },
      FillWith<quota::Account>(resp));
}

grpc::ServerUnaryReactor* AdminServiceImpl::ListAccounts(grpc::CallbackServerContext* ctx,
                                                         const v1::ListAccountsRequest*,
                                                         v1::ListAccountsResponse* resp) {
  return AdminRead(ctx, "ListAccounts", [resp](const manager::QuotaBook& book, absl::Time) {
    for (const auto& [name, a] : book.accounts()) ToProto(a, resp->add_accounts());
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* AdminServiceImpl::UpdateAccount(grpc::CallbackServerContext* ctx,
                                                          const v1::UpdateAccountRequest* req,
                                                          v1::Account* resp) {
  return Change(
      ctx, "UpdateAccount", *req, absl::StrCat("account ", req->account().name()),
      [req]() -> absl::StatusOr<QuotaRequest> {
        v1::Account a = req->account();
        const std::vector<std::string> fields = Paths(req->update_mask());
        // The kind is checked only when it changes.
        if (a.kind() == v1::ACCOUNT_KIND_UNSPECIFIED &&
            std::find(fields.begin(), fields.end(), "kind") == fields.end()) {
          a.set_kind(v1::ACCOUNT_KIND_LAB);
        }
        return Request(QuotaOp::kUpdate, FromProto(a), fields);
      },
      FillWith<quota::Account>(resp));
}

grpc::ServerUnaryReactor* AdminServiceImpl::DeleteAccount(grpc::CallbackServerContext* ctx,
                                                          const v1::DeleteAccountRequest* req,
                                                          v1::Empty*) {
  return Change(
      ctx, "DeleteAccount", *req, absl::StrCat("account ", req->name()),
      [req] {
        return Request(QuotaOp::kDelete,
                       absl::StatusOr<quota::Account>(quota::Account{.name = req->name()}));
      },
      Nothing());
}

// ---- Projects ----

grpc::ServerUnaryReactor* AdminServiceImpl::CreateProject(grpc::CallbackServerContext* ctx,
                                                          const v1::CreateProjectRequest* req,
                                                          v1::Project* resp) {
  return Change(
      ctx, "CreateProject", *req, absl::StrCat("project ", req->project().name()),
      [this, req] {
        auto p = FromProto(req->project());
        if (p.ok()) p->create_time = deps_.clock->Now();
        return Request(QuotaOp::kCreate, std::move(p));
      },
      FillWith<quota::Project>(resp));
}

grpc::ServerUnaryReactor* AdminServiceImpl::ListProjects(grpc::CallbackServerContext* ctx,
                                                         const v1::ListProjectsRequest* req,
                                                         v1::ListProjectsResponse* resp) {
  return AdminRead(ctx, "ListProjects", [req, resp](const manager::QuotaBook& book, absl::Time) {
    RETURN_IF_ERROR(CheckRequestBounds(*req));  // after AdminRead's admin check
    for (const auto& [name, p] : book.projects()) {
      if (req->account().empty() || p.account == req->account()) ToProto(p, resp->add_projects());
    }
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* AdminServiceImpl::UpdateProject(grpc::CallbackServerContext* ctx,
                                                          const v1::UpdateProjectRequest* req,
                                                          v1::Project* resp) {
  return Change(
      ctx, "UpdateProject", *req, absl::StrCat("project ", req->project().name()),
      [req] {
        return Request(QuotaOp::kUpdate, FromProto(req->project()), Paths(req->update_mask()));
      },
      FillWith<quota::Project>(resp));
}

grpc::ServerUnaryReactor* AdminServiceImpl::DeleteProject(grpc::CallbackServerContext* ctx,
                                                          const v1::DeleteProjectRequest* req,
                                                          v1::Empty*) {
  return Change(
      ctx, "DeleteProject", *req, absl::StrCat("project ", req->name()),
      [req] {
        return Request(QuotaOp::kDelete,
                       absl::StatusOr<quota::Project>(quota::Project{.name = req->name()}));
      },
      Nothing());
}

// ---- Members ----

grpc::ServerUnaryReactor* AdminServiceImpl::AddMember(grpc::CallbackServerContext* ctx,
                                                      const v1::AddMemberRequest* req,
                                                      v1::Member* resp) {
  return Change(
      ctx, "AddMember", *req,
      absl::StrCat("member ", req->member().user(), " of project ", req->member().project()),
      [req]() -> absl::StatusOr<QuotaRequest> {
        RETURN_IF_ERROR(CheckUser(req->member().user()));
        return Request(QuotaOp::kCreate, FromProto(req->member()));
      },
      FillWith<quota::Member>(resp));
}

grpc::ServerUnaryReactor* AdminServiceImpl::ListMembers(grpc::CallbackServerContext* ctx,
                                                        const v1::ListMembersRequest* req,
                                                        v1::ListMembersResponse* resp) {
  return AdminRead(ctx, "ListMembers", [req, resp](const manager::QuotaBook& book, absl::Time) {
    RETURN_IF_ERROR(CheckRequestBounds(*req));  // after AdminRead's admin check
    if (!req->project().empty() && !book.projects().contains(req->project())) {
      return absl::NotFoundError(absl::StrCat("project \"", req->project(), "\" does not exist"));
    }
    for (const auto& [key, m] : book.members()) {
      if (req->project().empty() || m.project == req->project()) ToProto(m, resp->add_members());
    }
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* AdminServiceImpl::UpdateMember(grpc::CallbackServerContext* ctx,
                                                         const v1::UpdateMemberRequest* req,
                                                         v1::Member* resp) {
  return Change(
      ctx, "UpdateMember", *req,
      absl::StrCat("member ", req->member().user(), " of project ", req->member().project()),
      [req] {
        return Request(QuotaOp::kUpdate, FromProto(req->member()), Paths(req->update_mask()));
      },
      FillWith<quota::Member>(resp));
}

grpc::ServerUnaryReactor* AdminServiceImpl::RemoveMember(grpc::CallbackServerContext* ctx,
                                                         const v1::RemoveMemberRequest* req,
                                                         v1::Empty*) {
  return Change(
      ctx, "RemoveMember", *req,
      absl::StrCat("member ", req->user(), " of project ", req->project()),
      [req] {
        return Request(QuotaOp::kDelete, absl::StatusOr<quota::Member>(quota::Member{
                                             .project = req->project(), .user = req->user()}));
      },
      Nothing());
}

// ---- Grants ----

grpc::ServerUnaryReactor* AdminServiceImpl::CreateGrant(grpc::CallbackServerContext* ctx,
                                                        const v1::CreateGrantRequest* req,
                                                        v1::Grant* resp) {
  const quota::ResourceCatalog* catalog = &deps_.manager->catalog();
  return Change(
      ctx, "CreateGrant", *req, absl::StrCat("grant for project ", req->grant().project()),
      [this, req, catalog] {
        v1::Grant g = req->grant();
        g.set_id(0);
        return Request(QuotaOp::kCreate, FromProto(g, *catalog, deps_.clock->Now()));
      },
      [resp, catalog](const QuotaRecord& r) {
        ToProto(quota::GrantStatus{.grant = std::get<quota::Grant>(r)}, *catalog, resp);
      });
}

grpc::ServerUnaryReactor* AdminServiceImpl::ListGrants(grpc::CallbackServerContext* ctx,
                                                       const v1::ListGrantsRequest* req,
                                                       v1::ListGrantsResponse* resp) {
  return AdminRead(ctx, "ListGrants", [req, resp](const manager::QuotaBook& book, absl::Time now) {
    RETURN_IF_ERROR(CheckRequestBounds(*req));  // after AdminRead's admin check
    if (!req->project().empty() && !book.projects().contains(req->project())) {
      return absl::NotFoundError(absl::StrCat("project \"", req->project(), "\" does not exist"));
    }
    for (const auto& [name, p] : book.projects()) {
      if (!req->project().empty() && name != req->project()) continue;
      for (const quota::GrantStatus& g : book.ledger().Grants(name, now)) {
        if (!req->include_expired() && g.grant.valid_until <= now) continue;
        ToProto(g, book.catalog(), resp->add_grants());
      }
    }
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* AdminServiceImpl::UpdateGrant(grpc::CallbackServerContext* ctx,
                                                        const v1::UpdateGrantRequest* req,
                                                        v1::Grant* resp) {
  const quota::ResourceCatalog* catalog = &deps_.manager->catalog();
  return Change(
      ctx, "UpdateGrant", *req, absl::StrCat("grant ", req->grant().id()),
      [this, req, catalog] {
        // The resource cannot change: any name the catalog knows parses, the book checks.
        v1::Grant g = req->grant();
        if (g.amount().resource().empty()) g.mutable_amount()->set_resource("gpu-hours");
        auto grant = FromProto(g, *catalog, deps_.clock->Now());
        return Request(QuotaOp::kUpdate, std::move(grant), Paths(req->update_mask()));
      },
      [resp, catalog](const QuotaRecord& r) {
        ToProto(quota::GrantStatus{.grant = std::get<quota::Grant>(r)}, *catalog, resp);
      });
}

grpc::ServerUnaryReactor* AdminServiceImpl::DeleteGrant(grpc::CallbackServerContext* ctx,
                                                        const v1::DeleteGrantRequest* req,
                                                        v1::Empty*) {
  return Change(
      ctx, "DeleteGrant", *req, absl::StrCat("grant ", req->id()),
      [req] {
        return Request(QuotaOp::kDelete,
                       absl::StatusOr<quota::Grant>(quota::Grant{.id = req->id()}));
      },
      Nothing());
}

// ---- Limits ----

grpc::ServerUnaryReactor* AdminServiceImpl::SetLimit(grpc::CallbackServerContext* ctx,
                                                     const v1::SetLimitRequest* req,
                                                     v1::Limit* resp) {
  std::string target = absl::StrCat("limits of project ", req->limit().project());
  if (!req->limit().user().empty()) absl::StrAppend(&target, " user ", req->limit().user());
  return Change(
      ctx, "SetLimit", *req, std::move(target),
      [req]() -> absl::StatusOr<QuotaRequest> {
        RETURN_IF_ERROR(CheckUser(req->limit().user()));
        return Request(QuotaOp::kCreate, FromProto(req->limit()));
      },
      FillWith<quota::Limit>(resp));
}

grpc::ServerUnaryReactor* AdminServiceImpl::ListLimits(grpc::CallbackServerContext* ctx,
                                                       const v1::ListLimitsRequest* req,
                                                       v1::ListLimitsResponse* resp) {
  return AdminRead(ctx, "ListLimits", [req, resp](const manager::QuotaBook& book, absl::Time) {
    RETURN_IF_ERROR(CheckRequestBounds(*req));  // after AdminRead's admin check
    for (const auto& [key, l] : book.limits()) {
      if (req->project().empty() || l.project == req->project()) ToProto(l, resp->add_limits());
    }
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* AdminServiceImpl::DeleteLimit(grpc::CallbackServerContext* ctx,
                                                        const v1::DeleteLimitRequest* req,
                                                        v1::Empty*) {
  std::string target = absl::StrCat("limits of project ", req->project());
  if (!req->user().empty()) absl::StrAppend(&target, " user ", req->user());
  return Change(
      ctx, "DeleteLimit", *req, std::move(target),
      [req] {
        return Request(QuotaOp::kDelete, absl::StatusOr<quota::Limit>(quota::Limit{
                                             .project = req->project(), .user = req->user()}));
      },
      Nothing());
}

// ---- Reports and audit ----

grpc::ServerUnaryReactor* AdminServiceImpl::UsageReport(grpc::CallbackServerContext* ctx,
                                                        const v1::UsageReportRequest* req,
                                                        v1::UsageReportResponse* resp) {
  store::UsageQuery query;
  if (absl::Status s = ToUsageQuery(req->range(), req->per_user(), req->per_month(), query);
      !s.ok()) {
    auto* reactor = ctx->DefaultReactor();
    reactor->Finish(ToGrpc(s));
    return reactor;
  }
  return AdminRead(
      ctx, "UsageReport",
      [this, req, resp, query](const manager::QuotaBook& book, absl::Time now) mutable {
        RETURN_IF_ERROR(CheckRequestBounds(*req));
        if (!req->account().empty() && !book.accounts().contains(req->account())) {
          return absl::NotFoundError(
              absl::StrCat("account \"", req->account(), "\" does not exist"));
        }
        if (!req->project().empty() && !book.projects().contains(req->project())) {
          return absl::NotFoundError(
              absl::StrCat("project \"", req->project(), "\" does not exist"));
        }
        for (const auto& [name, p] : book.projects()) {
          if (!req->project().empty() && name != req->project()) continue;
          if (!req->account().empty() && p.account != req->account()) continue;
          query.projects.push_back(name);
        }
        if (query.projects.empty()) return absl::OkStatus();
        auto rows = deps_.store->QueryUsage(query);
        if (!rows.ok()) return rows.status();
        for (const store::UsageRow& r : *rows) ToProto(r, resp->add_rows());
        // Grants that ended inside the range with something left: what lapsed.
        std::map<std::string, int64_t> lapsed;
        for (const std::string& project : query.projects) {
          for (const quota::GrantStatus& g : book.ledger().Grants(project, now)) {
            if (!g.lapsed.is_positive() || g.grant.valid_until < query.from ||
                g.grant.valid_until >= query.until) {
              continue;
            }
            ToProto(g, book.catalog(), resp->add_lapsed_grants());
            lapsed[book.catalog().Name(g.grant.resource)] += g.lapsed.milli();
          }
        }
        for (const auto& [resource, milli] : lapsed) {
          v1::Amount* a = resp->add_lapsed();
          a->set_resource(resource);
          a->set_milli(milli);
        }
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* AdminServiceImpl::ListAuditEvents(grpc::CallbackServerContext* ctx,
                                                            const v1::ListAuditEventsRequest* req,
                                                            v1::ListAuditEventsResponse* resp) {
  auto* reactor = ctx->DefaultReactor();
  auto caller = deps_.authenticator->Authenticate(*ctx, absl::StrCat(kPrefix, "ListAuditEvents"));
  absl::Status s = caller.status();
  if (s.ok()) s = deps_.policy->CheckAdmin(*caller, "reading the audit log");
  if (s.ok()) s = CheckRequestBounds(*req);
  store::AuditFilter filter;
  if (s.ok()) {
    filter.from = FromProtoTime(req->range().from(), absl::InfinitePast());
    filter.until = FromProtoTime(req->range().until(), absl::InfiniteFuture());
    filter.user = req->user();
    filter.limit = req->page().page_size() == 0 ? kDefaultAuditPage
                                                : std::min(req->page().page_size(), kMaxAuditPage);
    if (!req->page().page_token().empty() &&
        !absl::SimpleAtoi(req->page().page_token(), &filter.before_id)) {
      s = absl::InvalidArgumentError(
          "invalid page token; pass next_page_token from the last answer");
    }
  }
  if (!s.ok()) {
    reactor->Finish(ToGrpc(s));
    return reactor;
  }
  // A plain read of the store: no need for the manager's worker.
  auto events = deps_.store->ListAudit(filter);
  if (!events.ok()) {
    reactor->Finish(ToGrpc(events.status()));
    return reactor;
  }
  for (const store::AuditRecord& r : *events) ToProto(r, resp->add_events());
  if (!events->empty() && events->size() == filter.limit) {
    resp->set_next_page_token(absl::StrCat(events->back().id));
  }
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

}  // namespace drocc::api
