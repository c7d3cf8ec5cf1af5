#pragma once

#include <functional>
#include <string>
#include <vector>

#include "daemon/api/deps.h"
#include "drocc/v1/project.grpc.pb.h"

namespace drocc::api {

// drocc.v1.ProjectService: the caller's projects, their balances, grants and usage. Reads the
// quota state on the job manager's worker (ReadQuota) and usage from the store; never waits.
class ProjectServiceImpl final : public v1::ProjectService::CallbackService {
 public:
  explicit ProjectServiceImpl(ApiDeps deps) : deps_(deps) {}

  grpc::ServerUnaryReactor* ListMyProjects(grpc::CallbackServerContext* ctx,
                                           const v1::ListMyProjectsRequest* req,
                                           v1::ListMyProjectsResponse* resp) override;
  grpc::ServerUnaryReactor* GetBalance(grpc::CallbackServerContext* ctx,
                                       const v1::GetBalanceRequest* req,
                                       v1::GetBalanceResponse* resp) override;
  grpc::ServerUnaryReactor* ListGrants(grpc::CallbackServerContext* ctx,
                                       const v1::ListProjectGrantsRequest* req,
                                       v1::ListProjectGrantsResponse* resp) override;
  grpc::ServerUnaryReactor* GetUsage(grpc::CallbackServerContext* ctx,
                                     const v1::GetUsageRequest* req,
                                     v1::GetUsageResponse* resp) override;

 private:
  // Authenticates, then runs `read` on the manager's worker with the projects the request
  // covers and the caller may see (Policy::CheckProjectView); answers with its status.
  using ProjectsReader = std::function<absl::Status(const manager::QuotaBook&, absl::Time now,
                                                    const std::vector<std::string>& projects)>;
  // `req` is checked against the request bounds (request_bounds.h) first.
  grpc::ServerUnaryReactor* ReadProjects(grpc::CallbackServerContext* ctx, const char* method,
                                         const google::protobuf::Message& req, std::string project,
                                         bool per_user, ProjectsReader read);

  ApiDeps deps_;
};

}  // namespace drocc::api
