#pragma once

// MUNGE credentials, the way Slurm authenticates: the client encodes a credential bound to
// the RPC's method name, droccd decodes it to the caller's uid/gid. munged rejects a
// credential decoded twice (replay) or past its time-to-live.

#include <cstdint>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"

namespace drocc::auth {

struct MungeIdentity {
  uint32_t uid = 0;
  uint32_t gid = 0;
};

// Encodes a credential whose payload is `payload` (the full RPC method name).
// UNAVAILABLE when munged cannot be reached.
absl::StatusOr<std::string> MungeEncode(absl::string_view payload);

// Decodes `credential` and checks that its payload equals `expected_payload` and that it was
// encoded at most `max_age_s` seconds ago. UNAUTHENTICATED for an invalid, expired, replayed
// or mismatched credential; UNAVAILABLE when munged cannot be reached. Thread-safe.
absl::StatusOr<MungeIdentity> MungeDecode(const std::string& credential,
                                          absl::string_view expected_payload, int64_t max_age_s);

}  // namespace drocc::auth
