#pragma once

// Time as a seam: components take a Clock so tests can drive time by hand.

#include <mutex>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace drocc {

// Thread-safe source of the current time.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
};

// The real wall clock.
class SystemClock final : public Clock {
 public:
  absl::Time Now() const override;
  // A process-wide instance; it holds no state.
  static SystemClock* Get();
};

// A clock that only moves when told to. Thread-safe.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(absl::Time start = absl::FromUnixSeconds(1'767'225'600));  // 2026-01-01
  absl::Time Now() const override;
  void Advance(absl::Duration d);
  void Set(absl::Time t);

 private:
  mutable std::mutex mu_;
  absl::Time now_;  // GUARDED_BY(mu_)
};

}  // namespace drocc
