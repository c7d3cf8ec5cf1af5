#pragma once

// QuotaBook: the quota side of the job manager's domain (SPEC §4). It holds the model an admin
// configures (accounts, projects, members, grants, limits), the Ledger (escrow and charges),
// fair-share usage, and the pending jobs as admission sees them, and it turns them into the
// decisions the manager carries out: accept or reject a submission, which pending jobs to
// admit, what to reserve, what to charge.
//
// The store is the truth: Load() rebuilds everything from it (model, the sums of earlier
// charges, the reservations of jobs still in Slurm, recent usage for fair share). Every
// change is written to the store first and mirrored here only once durable; the manager does
// the writes, so this class never blocks on the disk except in Load().
//
// Not thread-safe: only the manager's worker thread touches it.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "daemon/queue/fifo_admission.h"
#include "daemon/queue/job.h"
#include "daemon/quota/admission.h"
#include "daemon/quota/fair_share.h"
#include "daemon/quota/ledger.h"
#include "daemon/quota/limits.h"
#include "daemon/quota/model.h"
#include "daemon/quota/resources.h"
#include "daemon/slurm/scheduler_backend.h"
#include "daemon/store/store.h"

namespace drocc::manager {

struct QuotaOptions {
  quota::ResourceCatalog catalog;
  quota::FairShareOptions fair_share;
  // A job submitted without a time limit gets this one (it is also what Slurm enforces), so
  // its cost is known. Slurm's partition default is not used: droccd must reserve for it.
  absl::Duration default_time_limit = absl::Hours(1);
  // `drocc balance` reports what expires within this window as "expiring soon".
  absl::Duration expiring_window = absl::Hours(24 * 30);
};

// A requested change of the quota model, as the API hands it over. For an update, `fields`
// names the fields to change (the API's FieldMask paths: "kind", "description", "share",
// "role", "is_default", "amount", "valid_from", "valid_until", "reference"); empty means
// every changeable field.
enum class QuotaOp { kCreate, kUpdate, kDelete };
using QuotaRecord =
    std::variant<quota::Account, quota::Project, quota::Member, quota::Grant, quota::Limit>;
struct QuotaRequest {
  QuotaOp op = QuotaOp::kCreate;
  QuotaRecord record;
  std::vector<std::string> fields;
  store::AuditRecord audit;  // who, from where, what: filled by the API
};

// What `drocc estimate` shows.
struct JobEstimate {
  std::string project;
  quota::ResourceVector cost;    // in the resources the project pays in
  quota::ResourceSet billed;     // those resources
  quota::ProjectBudget budget;   // the project's money now (after current holds)
  bool affordable_ever = false;  // false: submit would be REJECTED
  bool admissible_now = false;
  std::string reason;  // why not (the REJECTED or pending reason), with numbers
};

class QuotaBook {
 public:
  explicit QuotaBook(QuotaOptions options);

  const QuotaOptions& options() const { return options_; }
  const quota::ResourceCatalog& catalog() const { return ledger_.catalog(); }
  const quota::Ledger& ledger() const { return ledger_; }
  const quota::FairShare& fair_share() const { return fair_share_; }

  // Rebuilds the state from `store`; `active` are the jobs not ended (with their reserved
  // amounts). FAILED_PRECONDITION when the store names a resource this site's configuration
  // no longer defines (say which billing unit to restore).
  absl::Status Load(store::Store& store, const std::vector<queue::Job>& active, absl::Time now);

  // --- The model.
  const std::map<std::string, quota::Account, std::less<>>& accounts() const { return accounts_; }
  const std::map<std::string, quota::Project, std::less<>>& projects() const { return projects_; }
  // Members by (project, user).
  const std::map<std::pair<std::string, std::string>, quota::Member>& members() const {
    return members_;
  }
  const std::map<std::pair<std::string, std::string>, quota::Limit>& limits() const {
    return limits_;
  }
  const quota::Member* FindMember(const std::string& project, const std::string& user) const;
  // The caller's memberships, by project name.
  std::vector<quota::Member> MembershipsOf(const std::string& user) const;

  // Checks `request` against the model and returns the store changes that carry it out
  // (INVALID_ARGUMENT / NOT_FOUND / ALREADY_EXISTS / FAILED_PRECONDITION with what to do).
  // Changes nothing here.
  absl::StatusOr<std::vector<store::QuotaChange>> Prepare(const QuotaRequest& request) const;
  // Mirrors changes the store committed; `new_grant_id` is the id the store gave a created
  // grant. Answers the record as it now is (for a delete, as it was).
  QuotaRecord Commit(const std::vector<store::QuotaChange>& changes, uint64_t new_grant_id);

  // --- Jobs.
  // Fills in what a submission leaves to droccd: the project (the user's default one if the
  // spec names none) and the time limit (the configured default if none). PERMISSION_DENIED
  // if the user is not a member of the named project; FAILED_PRECONDITION if the user has no
  // project at all. Changes nothing here.
  absl::Status ResolveSubmission(queue::Job& job) const;
  // After ResolveSubmission: the reason a job must be REJECTED at submission (a limit it can
  // never fit, a cost no active grant could ever pay), or nullopt. RESOURCE_EXHAUSTED (and
  // nothing is stored) while the pending-job limit is reached: that passes by waiting.
  absl::StatusOr<std::optional<std::string>> CheckSubmission(const queue::Job& job,
                                                             absl::Time now) const;
  // `drocc estimate` for a resolved job; `in_slurm` as for Plan. `blocked`: the reason
  // admission would give even if budget and limits fit (drained, cluster full).
  JobEstimate Estimate(const queue::Job& job, const std::vector<const queue::Job*>& in_slurm,
                       absl::Time now, std::optional<std::string> blocked) const;

  // A job entered (or left) PENDING: counted for limits and offered to admission.
  void AddPending(const queue::Job& job);
  void RemovePending(queue::JobId id);
  bool IsPending(queue::JobId id) const { return FindPending(id) != nullptr; }
  size_t pending_count() const { return snapshot_.pending.size() - removed_; }
  // A submission accepted but not yet stored: counted against the pending-job limit until
  // AddPending / ForgetInFlight.
  void AddInFlight(const std::string& project, const std::string& user);
  void ForgetInFlight(const std::string& project, const std::string& user);

  // One admission pass (quota::PlanAdmission) over the pending jobs. `in_slurm` are the
  // admitted and running jobs (their resources count against limits).
  queue::AdmissionPlan Plan(const std::vector<const queue::Job*>& in_slurm,
                            uint32_t max_jobs_in_slurm, bool drained,
                            const std::string& drain_reason, absl::Time now,
                            std::string hold_reason = {});

  // Reserves an admitted job's cost; answers the amounts to store with the transition.
  // FAILED_PRECONDITION if it no longer fits (nothing is held then).
  absl::StatusOr<queue::AmountMap> Reserve(const queue::Job& job, absl::Time now);
  // Reserves the cost of a pending job found already in Slurm (reconciliation adopts it): as
  // Reserve, but when it no longer fits the reservation is held anyway (the job is in Slurm
  // whatever the budget says; what it uses beyond the grants is charged as overdraft).
  queue::AmountMap ReserveAdopted(const queue::Job& job, absl::Time now);
  // Drops a reservation the store did not record, or that of a job that never ran.
  void Release(queue::JobId id);

  // Settles a job that ended: charges what it used (Slurm's allocation × elapsed time; the
  // requested resources when Slurm reported no allocation) and releases its reservation.
  // Fills `u` (the job's transition to its end state) with the charges to write. A job that
  // never started is charged nothing. Provisional until Commit or RollBack.
  void Settle(const queue::Job& job, const slurm::BackendJob* slurm, queue::JobUpdate& u,
              absl::Time now);
  // Settles the run of a job that Slurm requeued (`u`: its transition to REQUEUED): charges
  // that run, [job.start_time, run_end), like Settle, and reserves the job's cost again for
  // the next run (without re-checking the budget: the job is already in Slurm). Fills u's
  // charges, charged (the sum over all runs so far), reserved and clears its start time. A
  // job with no recorded start is left as it is. Provisional until Commit or RollBack.
  void SettleRequeued(const queue::Job& job, const slurm::BackendJob* slurm, absl::Time run_end,
                      queue::JobUpdate& u, absl::Time now);
  // Settle and SettleRequeued change the ledger before the manager writes the transition
  // that carries the change. Commit once that write is durable: the usage counts for fair
  // share and the settlement is forgotten (the store has it). RollBack if the store did not
  // take it: the ledger goes back to what the store still holds (the draws given back, the
  // reservation held again), so the next attempt settles the same run again, once. Both do
  // nothing for a job without such a change.
  void Commit(queue::JobId id);
  void RollBack(queue::JobId id);

  // Amounts by resource name, for the store and the API.
  queue::AmountMap ToAmountMap(const quota::ResourceVector& v) const;

 private:
  // A ledger change for a transition not yet durable (see Commit).
  struct Provisional {
    quota::Reservation released;                  // what the job held before
    std::optional<quota::Settlement> settlement;  // what its run was charged, if it ran
    absl::Time usage_end = absl::InfinitePast();  // the run's end, for fair share
    bool reserved_again = false;                  // SettleRequeued held its cost again
  };

  // Charges the run [start, end) of a job holding a reservation: fills u.charged (the job's
  // earlier runs plus this one) and u.charges, and answers the settlement. nullopt when it
  // could not be settled (logged; the reservation is released).
  std::optional<quota::Settlement> SettleRun(const queue::Job& job, const slurm::BackendJob* slurm,
                                             absl::Time start, absl::Time end, queue::JobUpdate& u,
                                             absl::Time now);
  // What admission does not need of a pending job, beside it in a parallel vector.
  struct PendingMeta {
    uint32_t project = 0;  // into names_
    uint32_t user = 0;     // into names_
    bool removed = false;  // admitted, cancelled...: dropped at the next compaction
  };

  absl::StatusOr<quota::ResourceVector> CostOf(const queue::JobSpec& spec) const;
  // The billed part of `cost` for `project`.
  quota::ResourceVector Billed(const std::string& project, const quota::ResourceVector& cost,
                               absl::Time now) const;
  quota::Limit ProjectLimit(const std::string& project) const;
  std::optional<quota::Limit> UserLimit(const std::string& project, const std::string& user) const;
  // Project and user limit indices for admission, rebuilt when the model changes.
  void Reindex();
  quota::PendingJob MakePending(const queue::Job& job) const;
  // The pending job with this id (binary search), or null if none or removed.
  const quota::PendingJob* FindPending(queue::JobId id) const;
  size_t PendingSlot(queue::JobId id) const;  // lower bound in snapshot_.pending
  // Drops removed jobs from snapshot_.pending in place (no allocation).
  void Compact();
  uint32_t Intern(const std::string& name);

  QuotaOptions options_;
  quota::Ledger ledger_;
  quota::FairShare fair_share_;
  std::map<std::string, quota::Account, std::less<>> accounts_;
  std::map<std::string, quota::Project, std::less<>> projects_;
  std::map<std::pair<std::string, std::string>, quota::Member> members_;
  std::map<std::pair<std::string, std::string>, quota::Limit> limits_;
  // Grants are in ledger_; their resource names are the catalog's.

  // The pending jobs as admission sees them, ordered by id, kept between passes so a pass
  // over 100,000 jobs copies nothing: snapshot_.pending is their only copy in memory
  // (128 bytes a job with pending_meta_). Removal marks; Plan compacts first.
  quota::AdmissionSnapshot snapshot_;
  std::vector<PendingMeta> pending_meta_;
  size_t removed_ = 0;
  std::vector<std::string> names_;  // interned project and user names of pending jobs
  std::unordered_map<std::string, uint32_t> name_ids_;
  std::unordered_map<std::string, uint32_t> project_index_;  // into projects_ order
  std::vector<std::string> project_names_;
  std::map<std::pair<std::string, std::string>, uint32_t> user_index_;  // user limits
  std::vector<std::pair<std::string, std::string>> user_keys_;
  // Pending jobs per project and per (project, user), stored or in flight.
  std::unordered_map<std::string, uint32_t> pending_count_;
  std::map<std::pair<std::string, std::string>, uint32_t> user_pending_count_;
  std::unordered_map<queue::JobId, Provisional> provisional_;
};

}  // namespace drocc::manager
