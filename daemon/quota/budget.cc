#include "daemon/quota/budget.h"

#include "absl/strings/str_cat.h"

namespace drocc::quota {

ResourceSet BilledResources(const ProjectBudget& b, const ResourceSet& always_billed,
                            const ResourceVector& cost) {
  ResourceSet billed = b.ever_granted;
  for (size_t r = 0; r < kMaxResources; ++r) {
    if (always_billed[r] && cost[static_cast<ResourceId>(r)].is_positive()) billed.set(r);
  }
  return billed;
}

std::optional<std::string> BudgetShortfall(const ProjectBudget& b, const ResourceCatalog& catalog,
                                           const ResourceVector& cost) {
  const ResourceSet billed = BilledResources(b, catalog.always_billed(), cost);
  if (billed.none()) return std::string("waiting for a grant: the project has no grant");
  for (size_t i = 0; i < catalog.size(); ++i) {
    const ResourceId r = static_cast<ResourceId>(i);
    if (!billed[r] || !cost[r].is_positive()) continue;
    if (!b.active[r]) {
      return absl::StrCat("waiting for a grant: no active grant for ", catalog.Name(r));
    }
    if (cost[r] <= b.Available(r)) continue;
    const MilliUnits remaining = MaxAmount(MilliUnits::Zero(), b.Remaining(r));
    if (b.holders[r] == 0) {
      return absl::StrCat("waiting for budget: the job needs ", FormatMilli(cost[r]),
                          " of the remaining ", FormatAmount(remaining, catalog.Name(r)));
    }
    return absl::StrCat("waiting for budget: ", b.holders[r],
                        b.holders[r] == 1 ? " running job reserves " : " running jobs reserve ",
                        FormatMilli(b.reserved[r]), " of the remaining ",
                        FormatAmount(remaining, catalog.Name(r)));
  }
  return std::nullopt;
}

absl::Status CheckEverAffordable(const ProjectBudget& b, const ResourceCatalog& catalog,
                                 const std::string& project, const ResourceVector& cost) {
  const ResourceSet billed = BilledResources(b, catalog.always_billed(), cost);
  if (billed.none()) {
    return absl::FailedPreconditionError(
        absl::StrCat("project \"", project, "\" has no grant; ask an admin to add one"));
  }
  for (size_t i = 0; i < catalog.size(); ++i) {
    const ResourceId r = static_cast<ResourceId>(i);
    if (!billed[r] || !cost[r].is_positive()) continue;
    if (!b.active[r]) {
      return absl::FailedPreconditionError(
          absl::StrCat("project \"", project, "\" has no active grant for ", catalog.Name(r),
                       "; ask an admin to add one"));
    }
    if (cost[r] > b.Remaining(r)) {
      return absl::FailedPreconditionError(
          absl::StrCat("job needs ", FormatAmount(cost[r], catalog.Name(r)),
                       " but the active grants of project \"", project, "\" have ",
                       FormatMilli(MaxAmount(MilliUnits::Zero(), b.Remaining(r))), " left (",
                       FormatMilli(b.granted[r]), " granted, ", FormatMilli(b.charged[r]),
                       " charged); shorten its time limit or ask for a larger grant"));
    }
  }
  return absl::OkStatus();
}

void AddReservation(ProjectBudget& b, const ResourceSet& billed, const ResourceVector& cost) {
  for (size_t i = 0; i < kMaxResources; ++i) {
    const ResourceId r = static_cast<ResourceId>(i);
    if (!billed[r] || !cost[r].is_positive()) continue;
    b.reserved[r] += cost[r];
    ++b.holders[r];
  }
}

}  // namespace drocc::quota
