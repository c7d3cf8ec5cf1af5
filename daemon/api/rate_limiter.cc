#include "daemon/api/rate_limiter.h"

#include <algorithm>

namespace drocc::api {

RateLimiter::RateLimiter(RateLimit limit, const Clock* clock)
    : limit_(limit),
      clock_(clock),
      refill_(limit.per_second == 0
                  ? absl::ZeroDuration()
                  : absl::Seconds(static_cast<double>(std::max<uint32_t>(limit.burst, 1)) /
                                  limit.per_second)),
      next_sweep_(absl::InfinitePast()) {}

absl::Duration RateLimiter::Take(uint32_t uid) {
  if (limit_.per_second == 0) return absl::ZeroDuration();
  const double capacity = std::max<uint32_t>(limit_.burst, 1);
  const double rate = limit_.per_second;
  const absl::Time now = clock_->Now();
  std::lock_guard lock(mu_);
  SweepLocked(now);
  auto [it, fresh] = buckets_.try_emplace(uid, Bucket{.tokens = capacity, .time = now});
  Bucket& b = it->second;
  if (!fresh && now > b.time) {  // a clock that goes back refills nothing
    b.tokens = std::min(capacity, b.tokens + absl::ToDoubleSeconds(now - b.time) * rate);
    b.time = now;
  }
  // Refills add up in floating point: 20 x 0.05 may fall a hair short of 1.
  constexpr double kSlack = 1e-9;
  if (b.tokens >= 1 - kSlack) {
    b.tokens -= 1;
    return absl::ZeroDuration();
  }
  // Never zero: zero means "go ahead".
  return std::max(absl::Seconds((1 - b.tokens) / rate), absl::Nanoseconds(1));
}

void RateLimiter::SweepLocked(absl::Time now) {
  if (now < next_sweep_) return;
  next_sweep_ = now + refill_;
  const double capacity = std::max<uint32_t>(limit_.burst, 1);
  std::erase_if(buckets_, [&](const auto& entry) {
    const Bucket& b = entry.second;
    return b.tokens + absl::ToDoubleSeconds(now - b.time) * limit_.per_second >= capacity;
  });
}

size_t RateLimiter::buckets() const {
  std::lock_guard lock(mu_);
  return buckets_.size();
}

}  // namespace drocc::api
