#pragma once

// Per-job tokens for libdrocc-runtime (SPEC §8): droccd puts DROCC_JOB_TOKEN in the job's
// environment, and RuntimeService accepts a call about job N only with job N's token.
//
// A token is HMAC-SHA256(key, "drocc-job-token:" + N) in hex. The key is droccd's secret,
// generated once and kept in its database; tokens themselves are never stored, so there is
// nothing per job to leak from the database except the key (root-only, like the rest of it).
// A token stays valid while the job lives: a requeued job keeps its environment.

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace drocc::auth {

class JobTokens {
 public:
  // A fresh random key (32 bytes from the kernel's CSPRNG), hex-encoded.
  static absl::StatusOr<std::string> NewKey();
  // `hex_key` as NewKey made it. INVALID_ARGUMENT for anything else.
  static absl::StatusOr<JobTokens> FromKey(std::string_view hex_key);

  std::string TokenFor(uint64_t job_id) const;
  // Constant-time comparison with the token of `job_id`.
  bool Verify(uint64_t job_id, std::string_view token) const;

 private:
  explicit JobTokens(std::string key) : key_(std::move(key)) {}
  std::string key_;  // raw bytes
};

}  // namespace drocc::auth
