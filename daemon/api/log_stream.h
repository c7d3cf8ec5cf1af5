#pragma once

// The two server streams of JobService: WatchJob (state transitions) and StreamLogs (the
// job's output, followed while it runs). Both poll the store on a grpc::Alarm between
// messages, so no thread is held while a job runs.

#include <grpcpp/server_context.h>
#include <grpcpp/support/server_callback.h>

#include "daemon/api/deps.h"
#include "drocc/v1/job.pb.h"

namespace drocc::api {

grpc::ServerWriteReactor<v1::WatchJobResponse>* NewWatchReactor(const ApiDeps& deps,
                                                                grpc::CallbackServerContext* ctx,
                                                                const v1::WatchJobRequest& req);

grpc::ServerWriteReactor<v1::StreamLogsResponse>* NewLogReactor(const ApiDeps& deps,
                                                                grpc::CallbackServerContext* ctx,
                                                                const v1::StreamLogsRequest& req);

}  // namespace drocc::api
