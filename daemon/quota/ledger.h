#pragma once

// The ledger of SPEC §4: grants, reservations (escrow held by admitted jobs) and charges.
//
// Rules, in one place:
// - Balance = active grants − charged − reserved, per project and resource. `available` is
//   never below zero, and no grant is ever charged more than its amount, whatever the order
//   of calls.
// - Reserve is all-or-nothing over every billed resource (see BilledResources in budget.h) and
//   only succeeds if each fits what is available now.
// - Settle charges the actual usage exactly once. Usage is spread evenly over the job's run
//   [start, end) and each slice draws only from grants active during that slice, the one that
//   expires first first (ties: lowest grant id), spilling into the next when one is exhausted.
//   So usage after a grant expired never draws from it, usage before it did even if the
//   settle happens later (a restarted droccd settles the same way), and a job that outlives
//   its grant is never killed: the slice no grant can pay is recorded as an overdraft,
//   reported per job (Settlement) and per project (ResourceBalance::overdraft), never lost.
// - What is left in a grant once it has ended lapses, reported per grant (GrantStatus).
//   A late settle of a job that ran during the grant can still charge it, which lowers the
//   lapsed amount: lapse is final once every job that ran in the grant has settled.
//
// Not thread-safe: the domain's single owner calls it from one thread.

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "daemon/queue/job.h"
#include "daemon/quota/amount.h"
#include "daemon/quota/budget.h"
#include "daemon/quota/model.h"
#include "daemon/quota/resources.h"

namespace drocc::quota {

using queue::JobId;

// Escrow held by an admitted job until it settles or is released.
struct Reservation {
  JobId job = 0;
  std::string project;
  ResourceVector amount;  // billed resources only
  absl::Time at = absl::InfinitePast();
  bool operator==(const Reservation&) const = default;
};

// When the job actually ran: [start, end). Slurm's start and end times.
struct UsageWindow {
  absl::Time start = absl::InfinitePast();
  absl::Time end = absl::InfinitePast();
};

// One grant's share of a settlement.
struct GrantDraw {
  GrantId grant = 0;
  ResourceId resource = kGpuHours;
  MilliUnits amount;
  bool operator==(const GrantDraw&) const = default;
};

// The outcome of Settle, returned again for any later Settle of the same job.
struct Settlement {
  JobId job = 0;
  std::string project;
  ResourceVector reserved;       // what the job held, now released
  ResourceVector actual;         // usage in billed resources
  ResourceVector charged;        // drawn from grants (Σ draws)
  ResourceVector overdraft;      // actual − charged: usage no grant active at the time could pay
  std::vector<GrantDraw> draws;  // in the order drawn
  absl::Time settled_at = absl::InfinitePast();
  bool operator==(const Settlement&) const = default;
};

// Ledger::Balance: one project's position in one resource at one instant.
struct ResourceBalance {
  MilliUnits granted;        // Σ amount of active grants
  MilliUnits charged;        // Σ charged to active grants
  MilliUnits reserved;       // held by admitted, unsettled jobs
  MilliUnits available;      // max(0, granted − charged − reserved)
  MilliUnits expiring_soon;  // unspent in active grants ending within the window
  MilliUnits lapsed;         // unspent in grants that have ended
  MilliUnits upcoming;       // in grants not valid yet
  MilliUnits overdraft;      // usage no grant could pay, all time
  uint32_t holders = 0;      // jobs holding a reservation of this resource
  bool operator==(const ResourceBalance&) const = default;
};

// One grant and what became of it.
struct GrantStatus {
  Grant grant;
  MilliUnits charged;
  MilliUnits unspent;  // amount − charged
  MilliUnits lapsed;   // == unspent once the grant has ended, else 0
  bool active = false;
};

class Ledger {
 public:
  static constexpr absl::Duration kDefaultExpiringWindow = absl::Hours(24 * 30);

  explicit Ledger(ResourceCatalog catalog = ResourceCatalog());

  const ResourceCatalog& catalog() const { return catalog_; }

  // Adds a grant. INVALID_ARGUMENT if ValidateGrant fails or the resource is not in the
  // catalog; ALREADY_EXISTS for a known id.
  absl::Status AddGrant(const Grant& g);

  // Holds `cost` for `job` against `project`'s grants active at `now`, in every billed
  // resource or in none. FAILED_PRECONDITION with the pending reason's numbers if any does not
  // fit (nothing is held then); ALREADY_EXISTS if the job already holds a reservation;
  // FAILED_PRECONDITION if it was settled; INVALID_ARGUMENT for a negative cost.
  absl::Status Reserve(JobId job, const std::string& project, const ResourceVector& cost,
                       absl::Time now);

  // Charges `actual` usage for a job that ran during `window`, releases its reservation and
  // returns what was drawn from which grant (see the rules above). Exactly once: a second
  // Settle of the same job changes nothing and returns the first Settlement, whatever its
  // arguments. NOT_FOUND if the job holds no reservation and was never settled;
  // INVALID_ARGUMENT (and nothing changes) for a negative amount or end before start.
  absl::StatusOr<Settlement> Settle(JobId job, const ResourceVector& actual, UsageWindow window,
                                    absl::Time now);

  // Drops a reservation without a charge (the job never ran). NOT_FOUND if the job holds
  // none; FAILED_PRECONDITION if it was already settled.
  absl::Status Release(JobId job);

  // Reverses Settle for a settlement the store never recorded (the write that carried it
  // failed): gives each draw back to its grant, takes back the overdraft and forgets the
  // settlement, so the job can be settled again. The reservation Settle released is not held
  // again: RestoreReservation does that. FAILED_PRECONDITION, and nothing changes, if a
  // draw's grant is gone or holds less than the draw.
  absl::Status UndoSettle(const Settlement& s);

  // `project`'s position in `resource` at `now`. Unknown projects have an all-zero balance.
  ResourceBalance Balance(const std::string& project, ResourceId resource, absl::Time now,
                          absl::Duration expiring_window = kDefaultExpiringWindow) const;

  // Every resource at once, for admission and estimates.
  ProjectBudget Budget(const std::string& project, absl::Time now) const;

  // `project`'s grants, ordered by resource, then valid_until, then id.
  std::vector<GrantStatus> Grants(const std::string& project, absl::Time now) const;

  // Changes a grant's amount, validity or reference (not its project or resource).
  // NOT_FOUND for an unknown id; INVALID_ARGUMENT if ValidateGrant fails, the project or
  // resource differ, or the amount is below what the grant has been charged.
  absl::Status UpdateGrant(const Grant& g);
  // Removes a grant that was never charged. NOT_FOUND for an unknown id; FAILED_PRECONDITION
  // if it was charged (end it early with UpdateGrant instead: its history stays).
  absl::Status RemoveGrant(GrantId id);
  const Grant* FindGrant(GrantId id) const;

  // --- Start-up: rebuilds the state a store recorded, without re-checking today's budget.
  // A reservation held by a job admitted earlier (it may exceed what is available now).
  // ALREADY_EXISTS if the job holds one.
  absl::Status RestoreReservation(const Reservation& r);
  // What earlier settlements drew from grant `id`. NOT_FOUND for an unknown grant.
  absl::Status RestoreCharge(GrantId id, MilliUnits amount);
  // Usage no grant could pay, from earlier settlements.
  void RestoreOverdraft(const std::string& project, ResourceId r, MilliUnits amount);
  // Drops the remembered Settlement of a job whose settlement is durable (the job's end state
  // is stored, so it is never settled again): keeps memory flat over months of jobs.
  void ForgetSettlement(JobId job) { settled_.erase(job); }

  const Reservation* FindReservation(JobId job) const;
  const Settlement* FindSettlement(JobId job) const;
  size_t reservation_count() const { return reservations_.size(); }

 private:
  struct GrantEntry {
    Grant grant;
    MilliUnits charged;
  };
  struct Book {
    // Indices into grants_, per resource, ordered by (valid_until, id): the draw order.
    std::array<std::vector<size_t>, kMaxResources> grants;
    ResourceVector reserved;
    std::array<uint32_t, kMaxResources> holders{};
    ResourceVector overdraft;
  };

  const Book* FindBook(const std::string& project) const;
  // Draws `amount` of usage in `r` made during `window` from `book`'s grants; appends to
  // `draws` and returns what no grant could pay.
  MilliUnits Draw(Book& book, ResourceId r, MilliUnits amount, UsageWindow window,
                  std::vector<GrantDraw>& draws);
  // Draws `amount` from grants active through all of [from, to) (at `from` if they are equal).
  MilliUnits DrawFromSlice(Book& book, ResourceId r, MilliUnits amount, absl::Time from,
                           absl::Time to, std::vector<GrantDraw>& draws);

  ResourceCatalog catalog_;
  std::vector<GrantEntry> grants_;
  std::unordered_map<GrantId, size_t> grant_index_;
  std::map<std::string, Book, std::less<>> books_;
  std::unordered_map<JobId, Reservation> reservations_;
  std::unordered_map<JobId, Settlement> settled_;
};

}  // namespace drocc::quota
