#pragma once

#include "daemon/api/deps.h"
#include "daemon/api/unimplemented.h"
#include "drocc/v1/admin.grpc.pb.h"

namespace drocc::api {

// drocc.v1.AdminService. Today: the admission switch (drain, resume, state). Accounts,
// projects, grants, limits, reports and audit come with the quota-aware queue; tokens with
// remote access; backup with the reliability work.
class AdminServiceImpl final : public v1::AdminService::CallbackService {
 public:
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

#define DROCC_QUOTA_RPC(Method, Req, Resp) \
  DROCC_UNIMPLEMENTED_RPC(AdminService, Method, Req, Resp, "the quota-aware queue")
  DROCC_QUOTA_RPC(CreateAccount, CreateAccountRequest, Account)
  DROCC_QUOTA_RPC(ListAccounts, ListAccountsRequest, ListAccountsResponse)
  DROCC_QUOTA_RPC(UpdateAccount, UpdateAccountRequest, Account)
  DROCC_QUOTA_RPC(DeleteAccount, DeleteAccountRequest, Empty)
  DROCC_QUOTA_RPC(CreateProject, CreateProjectRequest, Project)
  DROCC_QUOTA_RPC(ListProjects, ListProjectsRequest, ListProjectsResponse)
  DROCC_QUOTA_RPC(UpdateProject, UpdateProjectRequest, Project)
  DROCC_QUOTA_RPC(DeleteProject, DeleteProjectRequest, Empty)
  DROCC_QUOTA_RPC(AddMember, AddMemberRequest, Member)
  DROCC_QUOTA_RPC(ListMembers, ListMembersRequest, ListMembersResponse)
  DROCC_QUOTA_RPC(UpdateMember, UpdateMemberRequest, Member)
  DROCC_QUOTA_RPC(RemoveMember, RemoveMemberRequest, Empty)
  DROCC_QUOTA_RPC(CreateGrant, CreateGrantRequest, Grant)
  DROCC_QUOTA_RPC(ListGrants, ListGrantsRequest, ListGrantsResponse)
  DROCC_QUOTA_RPC(UpdateGrant, UpdateGrantRequest, Grant)
  DROCC_QUOTA_RPC(DeleteGrant, DeleteGrantRequest, Empty)
  DROCC_QUOTA_RPC(SetLimit, SetLimitRequest, Limit)
  DROCC_QUOTA_RPC(ListLimits, ListLimitsRequest, ListLimitsResponse)
  DROCC_QUOTA_RPC(DeleteLimit, DeleteLimitRequest, Empty)
  DROCC_QUOTA_RPC(UsageReport, UsageReportRequest, UsageReportResponse)
  DROCC_QUOTA_RPC(ListAuditEvents, ListAuditEventsRequest, ListAuditEventsResponse)
#undef DROCC_QUOTA_RPC
  DROCC_UNIMPLEMENTED_RPC(AdminService, CreateToken, CreateTokenRequest, CreateTokenResponse,
                          "remote access with service tokens over TLS")
  DROCC_UNIMPLEMENTED_RPC(AdminService, ListTokens, ListTokensRequest, ListTokensResponse,
                          "remote access with service tokens over TLS")
  DROCC_UNIMPLEMENTED_RPC(AdminService, RevokeToken, RevokeTokenRequest, Empty,
                          "remote access with service tokens over TLS")
  DROCC_UNIMPLEMENTED_RPC(AdminService, Backup, BackupRequest, BackupResponse,
                          "online backup of the job database")

 private:
  grpc::ServerUnaryReactor* SetDrained(grpc::CallbackServerContext* ctx, const char* method,
                                       bool drained, std::string reason, v1::AdmissionState* resp);
  ApiDeps deps_;
};

}  // namespace drocc::api
