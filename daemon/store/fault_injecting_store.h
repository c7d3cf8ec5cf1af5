#pragma once

// FaultInjectingStore: a Store decorator for tests that makes chosen writes fail, to prove
// that a component above the store survives a write error at any step.
//
// It forwards every call to the store it wraps. Each write (InsertJob, UpdateJob, PutSetting,
// AppendCheckpoint, PutProgress, ApplyQuotaChanges, AppendAudit, PutServiceToken) is
// numbered from 1 and described; an armed Fault names the writes it hits (the Nth, or those
// a predicate matches) and how they fail:
//   - kBeforeWrite: nothing is stored and the callback gets the fault's error (inline, on the
//     caller's thread, as InMemoryStore answers);
//   - kAfterWrite: the write goes to the wrapped store and is stored if that store accepts it,
//     but the callback gets the fault's error: a lost acknowledgement, as when a commit
//     reached the disk but its answer did not reach the caller.
// Reads and Backup are forwarded untouched.
//
// Thread-safe; no lock is held while the wrapped store or a callback runs. Tests only: linked
// by no production target.

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "daemon/store/store.h"

namespace drocc::store {

// One write as the injector sees it: enough for a predicate to pick it.
struct WriteCall {
  enum class Kind {
    kInsertJob,
    kUpdateJob,
    kPutSetting,
    kAppendCheckpoint,
    kPutProgress,
    kApplyQuotaChanges,
    kAppendAudit,
    kPutServiceToken,
  };
  Kind kind = Kind::kInsertJob;
  uint64_t index = 0;                        // 1 for the first write through this store
  const queue::Job* job = nullptr;           // kInsertJob
  const queue::JobUpdate* update = nullptr;  // kUpdateJob
  queue::JobId job_id = 0;                   // kUpdateJob, kAppendCheckpoint, kPutProgress
  // kPutSetting: the setting; kApplyQuotaChanges, kAppendAudit: the audit's action;
  // kPutServiceToken: the token's id.
  std::string key;

  // "write 4: UpdateJob job 1 ADMITTED -> RUNNING", for failure messages.
  std::string Describe() const;
};

const char* WriteKindName(WriteCall::Kind kind);

enum class FaultMode {
  kBeforeWrite,  // nothing stored; the caller is told it failed
  kAfterWrite,   // stored; the caller is told it failed (a lost acknowledgement)
};

struct Fault {
  std::function<bool(const WriteCall&)> match;
  FaultMode mode = FaultMode::kBeforeWrite;
  // What the caller is told.
  absl::Status error = absl::UnavailableError(
      "injected store fault: the disk did not answer (retry once the store is back)");
  // How many matching writes fail before the fault disarms itself; 0: every one, until
  // Disarm().
  uint32_t times = 1;

  // The write with this index (see WriteCall::index).
  static Fault NthWrite(uint64_t index, FaultMode mode);
  // The next UpdateJob that moves a job from `from` to `to` (from == to: a field update in
  // that state, e.g. the recording of a Slurm id).
  static Fault Transition(queue::JobState from, queue::JobState to, FaultMode mode);
};

class FaultInjectingStore final : public Store {
 public:
  // `inner` must outlive this.
  explicit FaultInjectingStore(Store* inner) : inner_(inner) {}
  FaultInjectingStore(const FaultInjectingStore&) = delete;
  FaultInjectingStore& operator=(const FaultInjectingStore&) = delete;

  // Replaces any armed fault.
  void Arm(Fault fault);
  void Disarm();
  // Writes seen so far (failed ones included).
  uint64_t writes() const;
  // Writes the armed faults made fail so far.
  uint64_t faults_injected() const;
  // WriteCall::Describe() of every write seen, in order.
  std::vector<std::string> history() const;

  void InsertJob(queue::Job job, InsertCallback done) override;
  void UpdateJob(queue::JobUpdate u, DoneCallback done) override;
  void PutSetting(std::string key, std::string value, DoneCallback done) override;
  void AppendCheckpoint(queue::JobId id, queue::CheckpointRecord checkpoint,
                        DoneCallback done) override;
  void PutProgress(queue::JobId id, queue::ProgressRecord progress, DoneCallback done) override;
  void ApplyQuotaChanges(std::vector<QuotaChange> changes, AuditRecord audit,
                         IdCallback done) override;
  void AppendAudit(AuditRecord audit, DoneCallback done) override;
  void PutServiceToken(ServiceTokenRecord token, AuditRecord audit, DoneCallback done) override;

  absl::StatusOr<queue::Job> GetJob(queue::JobId id, bool with_events) override {
    return inner_->GetJob(id, with_events);
  }
  absl::StatusOr<std::optional<queue::Job>> FindJobByKey(uint32_t uid,
                                                         const std::string& key) override {
    return inner_->FindJobByKey(uid, key);
  }
  absl::StatusOr<std::vector<queue::Job>> ListJobs(const JobFilter& filter) override {
    return inner_->ListJobs(filter);
  }
  absl::StatusOr<std::vector<queue::Job>> ListActiveJobs() override {
    return inner_->ListActiveJobs();
  }
  absl::StatusOr<std::optional<std::string>> GetSetting(const std::string& key) override {
    return inner_->GetSetting(key);
  }
  absl::StatusOr<std::vector<ServiceTokenRecord>> ListServiceTokens() override {
    return inner_->ListServiceTokens();
  }
  absl::StatusOr<uint64_t> Backup(const std::string& dest) override { return inner_->Backup(dest); }
  absl::StatusOr<QuotaModel> LoadQuotaModel() override { return inner_->LoadQuotaModel(); }
  absl::StatusOr<std::vector<AuditRecord>> ListAudit(const AuditFilter& filter) override {
    return inner_->ListAudit(filter);
  }
  absl::StatusOr<std::vector<UsageRow>> QueryUsage(const UsageQuery& query) override {
    return inner_->QueryUsage(query);
  }
  absl::StatusOr<std::vector<ChargeTotal>> SumCharges() override { return inner_->SumCharges(); }
  absl::StatusOr<std::vector<UsageEvent>> ListUsageSince(absl::Time since) override {
    return inner_->ListUsageSince(since);
  }

 private:
  // Numbers and records `call`; answers the mode to fail it in, or nullopt to pass it on,
  // with the error to give in `error`.
  std::optional<FaultMode> Check(WriteCall& call, absl::Status& error);
  // Runs `write` (the wrapped store's write, given the callback to answer) as the armed fault
  // says: not at all, with `done`, or with a callback that tells `done` it failed.
  template <typename Callback, typename Write>
  void Forward(WriteCall call, Callback done, Write write);

  Store* const inner_;
  mutable std::mutex mu_;
  std::optional<Fault> fault_ ABSL_GUARDED_BY(mu_);
  uint32_t fault_hits_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t writes_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t injected_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::string> history_ ABSL_GUARDED_BY(mu_);
};

}  // namespace drocc::store
