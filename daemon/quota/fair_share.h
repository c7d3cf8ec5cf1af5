#pragma once

// Fair share across projects (SPEC §4): recent usage counts more than old usage, and a
// project's share scales what it may use before it waits behind others.
//
//   decayed_usage(now) = Σ usage_i × 2^(−(now − t_i) / half_life)
//   priority           = decayed_usage ÷ share          (lower goes first)
//
// This is the only place in the quota code with floating point: it orders projects and never
// touches money. Charges and balances stay exact MilliUnits in the Ledger.
//
// Not thread-safe: the domain's single owner calls it from one thread.

#include <cstdint>
#include <map>
#include <string>

#include "absl/time/time.h"
#include "daemon/quota/amount.h"
#include "daemon/quota/resources.h"

namespace drocc::quota {

struct FairShareOptions {
  absl::Duration half_life = absl::Hours(24 * 7);
  // The resource usage is measured in; a site with a billing unit should use it, since every
  // job has nodes but not every job has GPUs.
  ResourceId resource = kNodeHours;
};

// 2^(−dt / half_life); dt may be negative (then > 1). half_life must be positive.
double DecayFactor(absl::Duration dt, absl::Duration half_life);

class FairShare {
 public:
  // A half-life that is not positive is replaced by the default.
  explicit FairShare(FairShareOptions options = {});

  const FairShareOptions& options() const { return options_; }

  // Records `amount` of usage by `project` at `at`. Calls may come in any time order: usage
  // is stored decayed to one reference time per project, so the result does not depend on it
  // (up to floating-point rounding).
  void AddUsage(const std::string& project, MilliUnits amount, absl::Time at);
  // Records a settled job's usage in options().resource.
  void AddUsage(const std::string& project, const ResourceVector& usage, absl::Time at) {
    AddUsage(project, usage[options_.resource], at);
  }

  // Usage in units (not milli-units) decayed to `now`; 0 for an unknown project.
  double DecayedUsage(const std::string& project, absl::Time now) const;
  // DecayedUsage ÷ share (a share of 0 counts as 1). Lower goes first.
  double Priority(const std::string& project, uint32_t share, absl::Time now) const;

 private:
  struct Usage {
    double units = 0;  // decayed to `as_of`
    absl::Time as_of;
  };
  FairShareOptions options_;
  std::map<std::string, Usage, std::less<>> usage_;
};

}  // namespace drocc::quota
