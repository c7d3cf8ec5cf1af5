// runtime_probe SERVER JOB_ID TOKEN [progress PHASE STEP BYTES_DONE BYTES_TOTAL MESSAGE]:
// one RuntimeService call as a job's runtime would make it, with TOKEN in the
// x-drocc-job-token metadata: ReportCheckpoint (step 1, 1 byte), or with "progress" one
// ReportProgress with the fields given.
// Prints "OK" or "<CODE>: <message>"; exits 0 when the call succeeded, 1 when droccd refused
// it, 2 on bad usage. For checkpoint_test.sh (a token opens its own job only; progress shows
// in `drocc show`).

#include <grpcpp/create_channel.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "drocc/v1/runtime.grpc.pb.h"

namespace {

const char* CodeName(grpc::StatusCode c) {
  switch (c) {
    case grpc::StatusCode::OK:
      return "OK";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::StatusCode::NOT_FOUND:
      return "NOT_FOUND";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    default:
      return "ERROR";
  }
}

}  // namespace

int main(int argc, char** argv) {
  const bool progress = argc == 10 && std::string(argv[4]) == "progress";
  if (argc != 4 && !progress) {
    std::fprintf(stderr,
                 "usage: runtime_probe SERVER JOB_ID TOKEN "
                 "[progress PHASE STEP BYTES_DONE BYTES_TOTAL MESSAGE]\n");
    return 2;
  }
  auto stub = drocc::v1::RuntimeService::NewStub(
      grpc::CreateChannel(argv[1], grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  ctx.AddMetadata("x-drocc-job-token", argv[3]);
  const uint64_t job_id = std::strtoull(argv[2], nullptr, 10);
  grpc::Status s;
  if (progress) {
    drocc::v1::ReportProgressRequest req;
    req.set_job_id(job_id);
    req.set_phase(argv[5]);
    req.set_step(std::strtoll(argv[6], nullptr, 10));
    req.set_bytes_done(std::strtoull(argv[7], nullptr, 10));
    req.set_bytes_total(std::strtoull(argv[8], nullptr, 10));
    req.set_message(argv[9]);
    drocc::v1::ReportProgressResponse resp;
    s = stub->ReportProgress(&ctx, req, &resp);
  } else {
    drocc::v1::ReportCheckpointRequest req;
    req.set_job_id(job_id);
    req.set_ranks(1);
    req.mutable_checkpoint()->set_step(1);
    req.mutable_checkpoint()->set_bytes(1);
    req.mutable_checkpoint()->set_path("probe");
    drocc::v1::ReportCheckpointResponse resp;
    s = stub->ReportCheckpoint(&ctx, req, &resp);
  }
  if (s.ok()) {
    std::printf("OK\n");
    return 0;
  }
  std::printf("%s: %s\n", CodeName(s.error_code()), s.error_message().c_str());
  return 1;
}
