#include "daemon/quota/limits.h"

#include <limits>

#include "absl/strings/str_cat.h"
#include "common/human.h"

namespace drocc::quota {
namespace {

uint32_t SaturatingAdd(uint32_t a, uint32_t b) {
  uint32_t r;
  return __builtin_add_overflow(a, b, &r) ? std::numeric_limits<uint32_t>::max() : r;
}

const char* ScopeName(LimitScope s) { return s == LimitScope::kProject ? "project" : "user"; }

struct Kind {
  const char* name;
  uint32_t Limit::*max;
  uint32_t InUse::*used;
  uint32_t JobResources::*need;
};
constexpr Kind kKinds[] = {
    {"GPUs", &Limit::max_gpus, &InUse::gpus, &JobResources::gpus},
    {"CPUs", &Limit::max_cpus, &InUse::cpus, &JobResources::cpus},
    {"nodes", &Limit::max_nodes, &InUse::nodes, &JobResources::nodes},
};

}  // namespace

void InUse::Add(const JobResources& r) {
  gpus = SaturatingAdd(gpus, r.gpus);
  cpus = SaturatingAdd(cpus, r.cpus);
  nodes = SaturatingAdd(nodes, r.nodes);
}

std::optional<std::string> RunLimitReason(const Limit& limit, LimitScope scope, const InUse& in_use,
                                          const JobResources& job) {
  for (const Kind& k : kKinds) {
    const uint32_t max = limit.*k.max;
    const uint32_t used = in_use.*k.used;
    const uint32_t need = job.*k.need;
    if (max == 0 || need == 0 || uint64_t{used} + need <= max) continue;
    std::string reason =
        absl::StrCat(ScopeName(scope), " limit: ", used, " of ", max, " ", k.name, " in use");
    if (used < max) absl::StrAppend(&reason, ", the job needs ", need);
    return reason;
  }
  return std::nullopt;
}

absl::Status CheckSubmitLimits(const Limit& limit, LimitScope scope, const InUse& in_use,
                               const JobResources& job, absl::Duration walltime) {
  const char* whose = scope == LimitScope::kProject ? "the project's" : "your";
  if (limit.max_walltime > absl::ZeroDuration() && walltime > limit.max_walltime) {
    return absl::InvalidArgumentError(
        absl::StrCat("walltime ", HumanDuration(walltime), " exceeds ", whose, " maximum of ",
                     HumanDuration(limit.max_walltime), "; ask for a shorter time limit"));
  }
  for (const Kind& k : kKinds) {
    const uint32_t max = limit.*k.max;
    const uint32_t need = job.*k.need;
    if (max != 0 && need > max) {
      return absl::InvalidArgumentError(absl::StrCat("the job requests ", need, " ", k.name,
                                                     ", more than ", whose, " limit of ", max,
                                                     "; ask for at most ", max));
    }
  }
  if (limit.max_pending_jobs != 0 && in_use.pending_jobs >= limit.max_pending_jobs) {
    return absl::ResourceExhaustedError(absl::StrCat(
        ScopeName(scope), " limit: ", in_use.pending_jobs, " of ", limit.max_pending_jobs,
        " pending jobs; wait until one is admitted or cancel one"));
  }
  return absl::OkStatus();
}

}  // namespace drocc::quota
