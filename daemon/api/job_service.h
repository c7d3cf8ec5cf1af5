#pragma once

#include "daemon/api/deps.h"
#include "drocc/v1/job.grpc.pb.h"

namespace drocc::api {

// drocc.v1.JobService on the callback API: no handler waits on Slurm or on a commit;
// SubmitJob answers from the store's commit callback.
class JobServiceImpl final : public v1::JobService::CallbackService {
 public:
  explicit JobServiceImpl(ApiDeps deps) : deps_(deps) {}

  grpc::ServerUnaryReactor* SubmitJob(grpc::CallbackServerContext* ctx,
                                      const v1::SubmitJobRequest* req,
                                      v1::SubmitJobResponse* resp) override;
  grpc::ServerUnaryReactor* EstimateJob(grpc::CallbackServerContext* ctx,
                                        const v1::EstimateJobRequest* req,
                                        v1::EstimateJobResponse* resp) override;
  grpc::ServerUnaryReactor* GetJob(grpc::CallbackServerContext* ctx, const v1::GetJobRequest* req,
                                   v1::Job* resp) override;
  grpc::ServerUnaryReactor* ListJobs(grpc::CallbackServerContext* ctx,
                                     const v1::ListJobsRequest* req,
                                     v1::ListJobsResponse* resp) override;
  grpc::ServerUnaryReactor* CancelJob(grpc::CallbackServerContext* ctx,
                                      const v1::CancelJobRequest* req,
                                      v1::CancelJobResponse* resp) override;
  grpc::ServerWriteReactor<v1::WatchJobResponse>* WatchJob(grpc::CallbackServerContext* ctx,
                                                           const v1::WatchJobRequest* req) override;
  grpc::ServerWriteReactor<v1::StreamLogsResponse>* StreamLogs(
      grpc::CallbackServerContext* ctx, const v1::StreamLogsRequest* req) override;

 private:
  ApiDeps deps_;
};

// The job's output and error files, absolute, once Slurm gave it an id; empty before.
struct OutputPaths {
  std::string stdout_path;
  std::string stderr_path;
};
OutputPaths ResolveOutputPaths(const queue::Job& job);

// Checks a submission; INVALID_ARGUMENT / PERMISSION_DENIED with what to change.
absl::Status ValidateSubmit(const v1::SubmitJobRequest& req, const auth::Caller& caller,
                            const ApiLimits& limits);

}  // namespace drocc::api
