#pragma once

#include "daemon/api/deps.h"
#include "daemon/api/unimplemented.h"
#include "drocc/v1/runtime.grpc.pb.h"

namespace drocc::api {

// drocc.v1.RuntimeService: what libdrocc-runtime reports from inside a job, with the job's
// own token. Comes with the runtime library.
class RuntimeServiceImpl final : public v1::RuntimeService::CallbackService {
 public:
  explicit RuntimeServiceImpl(ApiDeps deps) : deps_(deps) {}

  DROCC_UNIMPLEMENTED_RPC(RuntimeService, ReportCheckpoint, ReportCheckpointRequest,
                          ReportCheckpointResponse, "checkpoint reports (per-job tokens)")
  DROCC_UNIMPLEMENTED_RPC(RuntimeService, ReportProgress, ReportProgressRequest,
                          ReportProgressResponse, "progress reports (per-job tokens)")
  DROCC_UNIMPLEMENTED_RPC(RuntimeService, RequestRequeue, RequestRequeueRequest,
                          RequestRequeueResponse, "checkpointed requeue (per-job tokens)")

 private:
  ApiDeps deps_;
};

}  // namespace drocc::api
