#pragma once

#include <functional>
#include "daemon/api/deps.h"

#include "daemon/api/convert.h"
#include "drocc/v1/admin.grpc.pb.h"

namespace drocc::api {

// drocc.v1.AdminService: the admission switch, the quota model (accounts, projects, members,
// grants, limits), usage reports and the audit log. Only admins; every call that changes
// something, or is refused, is written to the audit log (who, when, what, from where).
// Service tokens for the TLS listener are made, listed and revoked here, and the database is
// backed up.
class AdminServiceImpl final : public v1::AdminService::CallbackService {
 public:
  using Build = std::function<absl::StatusOr<manager::QuotaRequest>()>;
  using Fill = std::function<void(const manager::QuotaRecord&)>;
  using Read = std::function<absl::Status(const manager::QuotaBook&, absl::Time now)>;

  explicit AdminServiceImpl(ApiDeps deps) : deps_(deps) {}

  grpc::ServerUnaryReactor* DrainAdmission(grpc::CallbackServerContext* ctx,
                                           const v1::DrainAdmissionRequest* req,
                                           v1::AdmissionState* resp) override;
  grpc::ServerUnaryReactor* ResumeAdmission(grpc::CallbackServerContext* ctx,
                                            const v1::ResumeAdmissionRequest* req,
                                            v1::AdmissionState* resp) override;
  grpc::ServerUnaryReactor* GetAdmissionState(grpc::CallbackServerContext* ctx,
                                              const v1::GetAdmissionStateRequest* req,
                                              v1::AdmissionState* resp) override;

#define DROCC_ADMIN_RPC(Method, Req, Resp)                                               \
  grpc::ServerUnaryReactor* Method(grpc::CallbackServerContext* ctx, const v1::Req* req, \
                                   v1::Resp* resp) override;
  DROCC_ADMIN_RPC(CreateAccount, CreateAccountRequest, Account)
  DROCC_ADMIN_RPC(ListAccounts, ListAccountsRequest, ListAccountsResponse)
  DROCC_ADMIN_RPC(UpdateAccount, UpdateAccountRequest, Account)
  DROCC_ADMIN_RPC(DeleteAccount, DeleteAccountRequest, Empty)
  DROCC_ADMIN_RPC(CreateProject, CreateProjectRequest, Project)
  DROCC_ADMIN_RPC(ListProjects, ListProjectsRequest, ListProjectsResponse)
  DROCC_ADMIN_RPC(UpdateProject, UpdateProjectRequest, Project)
  DROCC_ADMIN_RPC(DeleteProject, DeleteProjectRequest, Empty)
  DROCC_ADMIN_RPC(AddMember, AddMemberRequest, Member)
  DROCC_ADMIN_RPC(ListMembers, ListMembersRequest, ListMembersResponse)
  DROCC_ADMIN_RPC(UpdateMember, UpdateMemberRequest, Member)
  DROCC_ADMIN_RPC(RemoveMember, RemoveMemberRequest, Empty)
  DROCC_ADMIN_RPC(CreateGrant, CreateGrantRequest, Grant)
  DROCC_ADMIN_RPC(ListGrants, ListGrantsRequest, ListGrantsResponse)
  DROCC_ADMIN_RPC(UpdateGrant, UpdateGrantRequest, Grant)
  DROCC_ADMIN_RPC(DeleteGrant, DeleteGrantRequest, Empty)
  DROCC_ADMIN_RPC(SetLimit, SetLimitRequest, Limit)
  DROCC_ADMIN_RPC(ListLimits, ListLimitsRequest, ListLimitsResponse)
  DROCC_ADMIN_RPC(DeleteLimit, DeleteLimitRequest, Empty)
  DROCC_ADMIN_RPC(UsageReport, UsageReportRequest, UsageReportResponse)
  DROCC_ADMIN_RPC(ListAuditEvents, ListAuditEventsRequest, ListAuditEventsResponse)
  // Service tokens, in token_admin.cc.
  DROCC_ADMIN_RPC(CreateToken, CreateTokenRequest, CreateTokenResponse)
  DROCC_ADMIN_RPC(ListTokens, ListTokensRequest, ListTokensResponse)
  DROCC_ADMIN_RPC(RevokeToken, RevokeTokenRequest, Empty)
#undef DROCC_ADMIN_RPC
  // Admins only: an online copy of the job database into a new file on droccd's host
  // (Store::Backup), audited.
  grpc::ServerUnaryReactor* Backup(grpc::CallbackServerContext* ctx, const v1::BackupRequest* req,
                                   v1::BackupResponse* resp) override;

 private:
  grpc::ServerUnaryReactor* SetDrained(grpc::CallbackServerContext* ctx, const char* method,
                                       bool drained, std::string reason, v1::AdmissionState* resp,
                                       const google::protobuf::Message& req);
  // A change of the quota model: authenticate, authorize, audit, hand to the manager, answer
  // with `fill`.
  grpc::ServerUnaryReactor* Change(grpc::CallbackServerContext* ctx, const char* rpc,
                                   const google::protobuf::Message& req, std::string target,
                                   Build build, Fill fill);
  // A read for admins only, run on the manager's worker.
  grpc::ServerUnaryReactor* AdminRead(grpc::CallbackServerContext* ctx, const char* rpc, Read read);
  ApiDeps deps_;
};

// An audit record of `caller` calling `rpc` on `target` with `req` (as JSON).
store::AuditRecord NewAudit(const auth::Caller& caller, absl::string_view rpc, std::string target,
                            const google::protobuf::Message& req, absl::Time now);
// Writes `a` without waiting, marked refused with the error if `outcome` is not OK.
void AppendAudit(store::Store& store, store::AuditRecord a, const absl::Status& outcome);

}  // namespace drocc::api
