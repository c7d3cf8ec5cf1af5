#pragma once

#include "common/job_env.h"
#include "daemon/api/deps.h"
#include "drocc/v1/runtime.grpc.pb.h"

namespace drocc::api {

// drocc.v1.RuntimeService: what libdrocc-runtime reports from inside a job. Every call names
// a job and carries that job's own token (DROCC_JOB_TOKEN, see daemon/auth/job_token.h); the
// caller's Unix identity is not what authorizes it, the token is. A token opens only its own
// job, and only while the job has not ended.
class RuntimeServiceImpl final : public v1::RuntimeService::CallbackService {
 public:
  explicit RuntimeServiceImpl(ApiDeps deps) : deps_(deps) {}

  grpc::ServerUnaryReactor* ReportCheckpoint(grpc::CallbackServerContext* ctx,
                                             const v1::ReportCheckpointRequest* req,
                                             v1::ReportCheckpointResponse* resp) override;
  // Stores the report as the latest progress of its phase (Store::PutProgress).
  // INVALID_ARGUMENT for a phase that is not 1 to kMaxPhaseBytes printable ASCII characters
  // without spaces, a message over kMaxProgressMessageBytes or with control characters, or
  // bytes_done > bytes_total when bytes_total is set.
  grpc::ServerUnaryReactor* ReportProgress(grpc::CallbackServerContext* ctx,
                                           const v1::ReportProgressRequest* req,
                                           v1::ReportProgressResponse* resp) override;
  grpc::ServerUnaryReactor* RequestRequeue(grpc::CallbackServerContext* ctx,
                                           const v1::RequestRequeueRequest* req,
                                           v1::RequestRequeueResponse* resp) override;

  static constexpr size_t kMaxPhaseBytes = 32;
  static constexpr size_t kMaxProgressMessageBytes = 512;

 private:
  // The job `job_id` if the call carries its token and it has not ended.
  absl::StatusOr<queue::Job> AuthorizeJob(const grpc::CallbackServerContext& ctx, uint64_t job_id,
                                          absl::string_view method) const;

  ApiDeps deps_;
};

}  // namespace drocc::api
