#pragma once

// Does a cost fit a project's budget, and if not, why — in words with numbers. Shared by the
// Ledger (Reserve), the admission pass (pending reasons) and the submit check (REJECTED), so
// all three say the same thing about the same numbers.

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "daemon/quota/amount.h"
#include "daemon/quota/resources.h"

namespace drocc::quota {

// A project's money at one instant, per resource. Ledger::Budget fills it; the admission pass
// updates a copy as it admits jobs.
struct ProjectBudget {
  ResourceSet ever_granted;  // resources the project holds or held any grant in
  ResourceSet active;        // resources with at least one grant active now
  ResourceVector granted;    // Σ amount of active grants
  ResourceVector charged;    // Σ charged to active grants
  ResourceVector reserved;   // Σ reservations of admitted, unsettled jobs
  std::array<uint32_t, kMaxResources> holders{};  // jobs holding a reservation of it

  // granted − charged: what the active grants could still pay, ignoring reservations.
  MilliUnits Remaining(ResourceId r) const { return granted[r] - charged[r]; }
  // max(0, granted − charged − reserved).
  MilliUnits Available(ResourceId r) const {
    return MaxAmount(MilliUnits::Zero(), Remaining(r) - reserved[r]);
  }
};

// The resources a cost is paid in for this project: every resource the project was ever
// granted, plus the site's always-billed resources the cost uses. A cost in a resource
// outside this set is free (a project funded in gpu-hours does not pay for the CPUs beside
// its GPUs).
ResourceSet BilledResources(const ProjectBudget& b, const ResourceSet& always_billed,
                            const ResourceVector& cost);

// nullopt if `cost` fits what is available now in every billed resource; otherwise the
// pending reason for the first resource that does not fit:
//   "waiting for budget: 3 running jobs reserve 40.0 of the remaining 52.5 gpu-hours"
//   "waiting for budget: the job needs 60.0 of the remaining 52.5 gpu-hours"   (no holders)
//   "waiting for a grant: no active grant for gpu-hours"
//   "waiting for a grant: the project has no grant"       (nothing billed at all)
std::optional<std::string> BudgetShortfall(const ProjectBudget& b, const ResourceCatalog& catalog,
                                           const ResourceVector& cost);

// OK if the active grants together could ever pay `cost` (ignoring other jobs' reservations);
// FAILED_PRECONDITION with the numbers otherwise, e.g.
//   job needs 600.0 gpu-hours but the active grants of project "ml" have 500.0 left (500.0
//   granted, 0.0 charged); shorten its time limit or ask for a larger grant
absl::Status CheckEverAffordable(const ProjectBudget& b, const ResourceCatalog& catalog,
                                 const std::string& project, const ResourceVector& cost);

// Adds `cost` (billed resources only) to `b` as one more reservation.
void AddReservation(ProjectBudget& b, const ResourceSet& billed, const ResourceVector& cost);

}  // namespace drocc::quota
