#pragma once

#include "daemon/api/deps.h"
#include "daemon/api/unimplemented.h"
#include "drocc/v1/project.grpc.pb.h"

namespace drocc::api {

// drocc.v1.ProjectService: balances, grants and usage of the caller's projects. Comes with
// the quota-aware queue.
class ProjectServiceImpl final : public v1::ProjectService::CallbackService {
 public:
  explicit ProjectServiceImpl(ApiDeps deps) : deps_(deps) {}

  DROCC_UNIMPLEMENTED_RPC(ProjectService, ListMyProjects, ListMyProjectsRequest,
                          ListMyProjectsResponse, "projects (the quota-aware queue)")
  DROCC_UNIMPLEMENTED_RPC(ProjectService, GetBalance, GetBalanceRequest, GetBalanceResponse,
                          "hour grants and balances (the quota-aware queue)")
  DROCC_UNIMPLEMENTED_RPC(ProjectService, ListGrants, ListProjectGrantsRequest,
                          ListProjectGrantsResponse, "hour grants (the quota-aware queue)")
  DROCC_UNIMPLEMENTED_RPC(ProjectService, GetUsage, GetUsageRequest, GetUsageResponse,
                          "usage accounting (the quota-aware queue)")

 private:
  ApiDeps deps_;
};

}  // namespace drocc::api
