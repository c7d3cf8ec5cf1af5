#include "daemon/quota/resources.h"

#include <limits>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/resource_name.h"
#include "daemon/queue/job.h"

namespace drocc::quota {
namespace {

uint32_t SaturatingMul(uint64_t a, uint64_t b) {
  unsigned __int128 p = static_cast<unsigned __int128>(a) * b;
  return p > std::numeric_limits<uint32_t>::max() ? std::numeric_limits<uint32_t>::max()
                                                  : static_cast<uint32_t>(p);
}

}  // namespace

JobResources RequestedResources(const queue::JobSpec& spec) {
  JobResources r;
  r.nodes = spec.nodes > 0 ? spec.nodes : 1;
  uint32_t tasks = spec.ntasks;
  if (tasks == 0) {
    tasks = spec.ntasks_per_node > 0 ? SaturatingMul(r.nodes, spec.ntasks_per_node) : r.nodes;
  }
  r.cpus = SaturatingMul(tasks, spec.cpus_per_task > 0 ? spec.cpus_per_task : 1);
  r.gpus = SaturatingMul(r.nodes, spec.gpus_per_node);
  return r;
}

ResourceCatalog::ResourceCatalog() : names_{"gpu-hours", "cpu-hours", "node-hours"} {
  always_billed_.set(kGpuHours);
}

absl::StatusOr<ResourceCatalog> ResourceCatalog::Create(std::vector<BillingUnit> billing_units,
                                                        std::vector<std::string> always_billed) {
  ResourceCatalog c;
  c.always_billed_.reset();
  if (billing_units.size() > kMaxResources - kBuiltinResources) {
    return absl::InvalidArgumentError(
        absl::StrCat(billing_units.size(), " billing units configured; drocc supports at most ",
                     kMaxResources - kBuiltinResources, ", remove some"));
  }
  for (BillingUnit& u : billing_units) {
    if (!IsResourceName(u.name)) {
      return absl::InvalidArgumentError(
          absl::StrCat("billing unit name \"", u.name,
                       "\" is not valid; use a letter followed by letters, digits, - or _"));
    }
    if (c.Find(u.name)) {
      return absl::InvalidArgumentError(
          absl::StrCat("billing unit \"", u.name, "\" is defined twice; keep one"));
    }
    if (u.node_weight_milli < 0 || u.cpu_weight_milli < 0 || u.gpu_weight_milli < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("billing unit \"", u.name, "\" has a negative weight; use 0 or more"));
    }
    constexpr int64_t kMaxWeight = 1'000'000'000;  // a million units per node/cpu/gpu-hour
    if (u.node_weight_milli > kMaxWeight || u.cpu_weight_milli > kMaxWeight ||
        u.gpu_weight_milli > kMaxWeight) {
      return absl::InvalidArgumentError(absl::StrCat(
          "billing unit \"", u.name, "\" has a weight above 1000000.0; use a smaller weight"));
    }
    c.names_.push_back(u.name);
    c.billing_.push_back(std::move(u));
  }
  for (const std::string& name : always_billed) {
    absl::StatusOr<ResourceId> r = c.Parse(name);
    if (!r.ok()) return r.status();
    c.always_billed_.set(*r);
  }
  return c;
}

std::optional<ResourceId> ResourceCatalog::Find(std::string_view name) const {
  for (size_t i = 0; i < names_.size(); ++i) {
    if (names_[i] == name) return static_cast<ResourceId>(i);
  }
  return std::nullopt;
}

absl::StatusOr<ResourceId> ResourceCatalog::Parse(std::string_view name) const {
  if (std::optional<ResourceId> r = Find(name)) return *r;
  return absl::InvalidArgumentError(absl::StrCat("unknown resource \"", std::string(name),
                                                 "\"; use one of ", absl::StrJoin(names_, ", ")));
}

absl::StatusOr<ResourceVector> ResourceCatalog::Cost(const JobResources& res,
                                                     absl::Duration d) const {
  if (d < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("a job's duration cannot be negative; check its times");
  }
  if (d == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError("a job without a time limit has no cost; give it a limit");
  }
  // Whole seconds, rounded up: a partial second is billed as a second.
  const __int128 seconds = absl::ToInt64Seconds(absl::Ceil(d, absl::Seconds(1)));
  // count_milli × seconds / 3600, rounded up: exact in 128 bits for any uint32 count and any
  // int64 seconds divided by a constant.
  auto hours = [&](__int128 count_milli) -> __int128 {
    __int128 num = count_milli * seconds;
    return (num + 3599) / 3600;
  };
  __int128 raw[kMaxResources] = {};
  raw[kGpuHours] = hours(__int128{res.gpus} * 1000);
  raw[kCpuHours] = hours(__int128{res.cpus} * 1000);
  raw[kNodeHours] = hours(__int128{res.nodes} * 1000);
  for (size_t i = 0; i < billing_.size(); ++i) {
    const BillingUnit& u = billing_[i];
    // Weights are already in thousandths, so the weighted sum is the count in milli-units.
    raw[kBuiltinResources + i] =
        hours(__int128{u.node_weight_milli} * res.nodes + __int128{u.cpu_weight_milli} * res.cpus +
              __int128{u.gpu_weight_milli} * res.gpus);
  }
  ResourceVector cost;
  for (size_t i = 0; i < size(); ++i) {
    if (raw[i] > kMaxAmount.milli()) {
      return absl::OutOfRangeError(
          absl::StrCat("the job would cost more than ", FormatAmount(kMaxAmount, names_[i]),
                       "; ask for fewer resources or a shorter time limit"));
    }
    cost[static_cast<ResourceId>(i)] = MilliUnits::FromMilli(static_cast<int64_t>(raw[i]));
  }
  return cost;
}

}  // namespace drocc::quota
