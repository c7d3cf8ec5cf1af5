#pragma once

// The JSON form of a queue::JobSpec, as SqliteStore keeps it in jobs.spec_json. The whole
// spec (script, environment, labels included) lives in one column so that adding a field to
// JobSpec needs no schema migration.
//
// Compatibility: fields at their zero value are left out; reading ignores unknown fields and
// takes missing ones as zero, so a database written by an older or newer droccd still reads.

#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"
#include "daemon/queue/job.h"

namespace drocc::store {

// INVALID_ARGUMENT if a text field is not valid UTF-8 (JSON cannot hold it).
absl::StatusOr<std::string> JobSpecToJson(const queue::JobSpec& spec);

// DATA_LOSS if `json` is not a JSON object or a field has the wrong type.
absl::StatusOr<queue::JobSpec> JobSpecFromJson(absl::string_view json);

// A job's reserved or charged amounts (jobs.reserved_json, jobs.charged_json) as a JSON
// object of resource name to milli-units: {"gpu-hours": 1500}. Names are the quota code's
// resource names (ASCII).
std::string AmountMapToJson(const queue::AmountMap& amounts);

// DATA_LOSS if `json` is not a JSON object of integers.
absl::StatusOr<queue::AmountMap> AmountMapFromJson(absl::string_view json);

}  // namespace drocc::store
