#pragma once

// Per-user token buckets: each uid may make `burst` calls at once and `per_second` more each
// second after that. droccd uses one for SubmitJob and EstimateJob (docs/security.md, "Least
// privilege"). Memory is bounded: a bucket that has filled up again is the same as no bucket,
// so full buckets are dropped, and only users who called within the last two refill times
// (burst / per_second) hold one. Thread-safe; one short mutex per call.

#include <cstdint>
#include <mutex>
#include <unordered_map>

#include "absl/time/time.h"
#include "common/clock.h"

namespace drocc::api {

struct RateLimit {
  uint32_t per_second = 0;  // 0: no limit
  uint32_t burst = 0;       // at least 1 when per_second is set
};

class RateLimiter {
 public:
  // `limit.per_second` 0 lets every call through. `clock` must outlive the limiter.
  RateLimiter(RateLimit limit, const Clock* clock);

  // Takes one call from `uid`'s bucket. Zero: go ahead. Otherwise the call is refused (and
  // takes nothing) and the result is how long until the bucket holds a call again.
  absl::Duration Take(uint32_t uid);

  const RateLimit& limit() const { return limit_; }
  // Buckets held now (for tests of the memory bound).
  size_t buckets() const;

 private:
  struct Bucket {
    double tokens = 0;  // calls available at `time`
    absl::Time time;
  };
  // Drops full buckets, at most once per refill time.
  void SweepLocked(absl::Time now);

  const RateLimit limit_;
  const Clock* const clock_;
  const absl::Duration refill_;  // from empty to full: burst / per_second
  mutable std::mutex mu_;
  std::unordered_map<uint32_t, Bucket> buckets_;  // GUARDED_BY(mu_)
  absl::Time next_sweep_;                         // GUARDED_BY(mu_)
};

}  // namespace drocc::api
