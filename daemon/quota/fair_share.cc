#include "daemon/quota/fair_share.h"

#include <cmath>

namespace drocc::quota {

double DecayFactor(absl::Duration dt, absl::Duration half_life) {
  return std::exp2(-absl::FDivDuration(dt, half_life));
}

FairShare::FairShare(FairShareOptions options) : options_(options) {
  if (options_.half_life <= absl::ZeroDuration()) options_.half_life = FairShareOptions{}.half_life;
}

void FairShare::AddUsage(const std::string& project, MilliUnits amount, absl::Time at) {
  if (!amount.is_positive()) return;
  const double units = static_cast<double>(amount.milli()) / MilliUnits::kPerUnit;
  auto [it, inserted] = usage_.try_emplace(project, Usage{0, at});
  Usage& u = it->second;
  if (at > u.as_of) {
    // Move the reference time forward so the stored value stays a sensible magnitude.
    u.units *= DecayFactor(at - u.as_of, options_.half_life);
    u.as_of = at;
  }
  u.units += units * DecayFactor(u.as_of - at, options_.half_life);
}

double FairShare::DecayedUsage(const std::string& project, absl::Time now) const {
  auto it = usage_.find(project);
  if (it == usage_.end()) return 0;
  return it->second.units * DecayFactor(now - it->second.as_of, options_.half_life);
}

double FairShare::Priority(const std::string& project, uint32_t share, absl::Time now) const {
  return DecayedUsage(project, now) / (share == 0 ? 1 : share);
}

}  // namespace drocc::quota
