#include "common/clock.h"

namespace drocc {

absl::Time SystemClock::Now() const { return absl::Now(); }

SystemClock* SystemClock::Get() {
  static SystemClock clock;
  return &clock;
}

FakeClock::FakeClock(absl::Time start) : now_(start) {}

absl::Time FakeClock::Now() const {
  std::lock_guard lock(mu_);
  return now_;
}

void FakeClock::Advance(absl::Duration d) {
  std::lock_guard lock(mu_);
  now_ += d;
}

void FakeClock::Set(absl::Time t) {
  std::lock_guard lock(mu_);
  now_ = t;
}

}  // namespace drocc
