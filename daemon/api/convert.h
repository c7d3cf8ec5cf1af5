#pragma once

// Mapping between the domain's values and drocc.v1 messages, and absl::Status to gRPC.

#include <grpcpp/support/status.h>

#include "absl/status/status.h"
#include "daemon/queue/job.h"
#include "drocc/v1/job.pb.h"

namespace drocc::api {

// Unset (InfinitePast / InfiniteFuture) times leave the field unset.
void SetTime(absl::Time t, google::protobuf::Timestamp* out);
// An unset Timestamp (0) reads as `unset`.
absl::Time FromProtoTime(const google::protobuf::Timestamp& t, absl::Time unset);
void AddAmounts(const queue::AmountMap& amounts,
                google::protobuf::RepeatedPtrField<v1::Amount>* out);

queue::JobSpec FromProto(const v1::JobSpec& spec);
void ToProto(const queue::JobSpec& spec, v1::JobSpec* out);
// `full`: include the script, environment, events, checkpoints and progress (GetJob);
// listings leave them out.
void ToProto(const queue::Job& job, bool full, v1::Job* out);
void ToProto(const queue::JobEvent& event, v1::JobEvent* out);

grpc::Status ToGrpc(const absl::Status& status);

}  // namespace drocc::api
