#pragma once

// What a job is billed in, and what it costs: built-in resources (gpu-hours, cpu-hours,
// node-hours) and site-defined billing units with weights (like Slurm's TRESBillingWeights).
// All cost arithmetic is integer and exact.

#include <array>
#include <bitset>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "daemon/quota/amount.h"

namespace drocc::queue {
struct JobSpec;
}

namespace drocc::quota {

// Index of a resource in the site's ResourceCatalog. The three built-ins have fixed ids.
using ResourceId = uint8_t;
inline constexpr ResourceId kGpuHours = 0;
inline constexpr ResourceId kCpuHours = 1;  // core-hours
inline constexpr ResourceId kNodeHours = 2;
inline constexpr size_t kBuiltinResources = 3;
// Built-ins plus up to 5 billing units: a fixed size keeps a job's cost in 64 bytes with no
// allocation, which matters when an admission pass looks at 100,000 jobs.
inline constexpr size_t kMaxResources = 8;

// An amount per resource (a cost, a balance). Resources the catalog does not define stay 0.
struct ResourceVector {
  std::array<MilliUnits, kMaxResources> v{};
  MilliUnits& operator[](ResourceId r) { return v[r]; }
  MilliUnits operator[](ResourceId r) const { return v[r]; }
  bool operator==(const ResourceVector&) const = default;
};

// A set of resources.
using ResourceSet = std::bitset<kMaxResources>;

// What a job holds while it runs: whole nodes, CPUs (cores) and GPUs.
struct JobResources {
  uint32_t nodes = 0;
  uint32_t cpus = 0;
  uint32_t gpus = 0;
  bool operator==(const JobResources&) const = default;
};

// The resources a job asks for, by sbatch's defaults:
//   nodes = spec.nodes, or 1;
//   tasks = spec.ntasks, or nodes × ntasks_per_node, or nodes (one task per node);
//   cpus  = tasks × (spec.cpus_per_task, or 1);
//   gpus  = nodes × gpus_per_node (the client resolves --gres/--gpus into gpus_per_node).
// Saturates at uint32 max (such a job is rejected later as never affordable or over limits).
JobResources RequestedResources(const queue::JobSpec& spec);

// A site-defined billing unit: billing per hour = Σ weight × count, weights in thousandths
// (Slurm's TRESBillingWeights="CPU=1.0,GRES/gpu=8.0" is {cpu 1000, gpu 8000}).
struct BillingUnit {
  std::string name;  // e.g. "billing-hours", "su"
  int64_t node_weight_milli = 0;
  int64_t cpu_weight_milli = 0;
  int64_t gpu_weight_milli = 0;
};

// The site's resources, and which of them are always billed. Immutable after Create; safe to
// share between threads.
//
// Which resources a project pays in: every resource it holds (or held) a grant in, plus the
// site's `always_billed` ones (default: gpu-hours, so GPUs are never free for a project
// funded in cpu-hours). See Ledger::BilledResources.
class ResourceCatalog {
 public:
  // The built-ins only, gpu-hours always billed.
  ResourceCatalog();
  // INVALID_ARGUMENT for a duplicate or malformed name, a negative weight, too many units, or
  // an always_billed name the catalog does not define.
  static absl::StatusOr<ResourceCatalog> Create(std::vector<BillingUnit> billing_units,
                                                std::vector<std::string> always_billed = {
                                                    "gpu-hours"});

  size_t size() const { return kBuiltinResources + billing_.size(); }
  // "gpu-hours", "cpu-hours", "node-hours" or the billing unit's name.
  const std::string& Name(ResourceId r) const { return names_[r]; }
  std::optional<ResourceId> Find(std::string_view name) const;
  // Like Find, with INVALID_ARGUMENT listing the known names.
  absl::StatusOr<ResourceId> Parse(std::string_view name) const;
  const ResourceSet& always_billed() const { return always_billed_; }

  // The exact cost of holding `res` for `d` (rounded up to whole seconds), per resource:
  //   gpu-hours  = gpus  × seconds / 3600
  //   cpu-hours  = cpus  × seconds / 3600
  //   node-hours = nodes × seconds / 3600
  //   billing    = (Σ weight_milli × count) × seconds / 3600 / 1000
  // each computed in 128-bit integers and rounded UP to the next milli-unit once, at the end
  // (never per factor). Rounding up makes a reservation always cover the charge of a job that
  // ran no longer than reserved (ceil is monotonic), and costs a job at most 0.001 unit per
  // resource. INVALID_ARGUMENT for a negative duration, OUT_OF_RANGE beyond kMaxAmount.
  absl::StatusOr<ResourceVector> Cost(const JobResources& res, absl::Duration d) const;

 private:
  std::vector<std::string> names_;
  std::vector<BillingUnit> billing_;
  ResourceSet always_billed_;
};

}  // namespace drocc::quota
