#include "daemon/store/fault_injecting_store.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace drocc::store {

const char* WriteKindName(WriteCall::Kind kind) {
  switch (kind) {
    case WriteCall::Kind::kInsertJob:
      return "InsertJob";
    case WriteCall::Kind::kUpdateJob:
      return "UpdateJob";
    case WriteCall::Kind::kPutSetting:
      return "PutSetting";
    case WriteCall::Kind::kAppendCheckpoint:
      return "AppendCheckpoint";
    case WriteCall::Kind::kPutProgress:
      return "PutProgress";
    case WriteCall::Kind::kApplyQuotaChanges:
      return "ApplyQuotaChanges";
    case WriteCall::Kind::kAppendAudit:
      return "AppendAudit";
    case WriteCall::Kind::kPutServiceToken:
      return "PutServiceToken";
  }
  return "unknown write";
}

std::string WriteCall::Describe() const {
  std::string out = absl::StrCat("write ", index, ": ", WriteKindName(kind));
  switch (kind) {
    case Kind::kInsertJob:
      if (job != nullptr) {
        absl::StrAppend(&out, " (", queue::JobStateName(job->state), " job of ", job->user,
                        job->idempotency_key.empty() ? "" : ", key ", job->idempotency_key, ")");
      }
      break;
    case Kind::kUpdateJob:
      if (update != nullptr) {
        absl::StrAppend(&out, " job ", update->id, " ", queue::JobStateName(update->from), " -> ",
                        queue::JobStateName(update->to));
        if (update->slurm_job_id) absl::StrAppend(&out, ", Slurm id ", *update->slurm_job_id);
        if (update->reserved) absl::StrAppend(&out, ", reserved");
        if (!update->charges.empty()) absl::StrAppend(&out, ", charges");
      }
      break;
    case Kind::kAppendCheckpoint:
    case Kind::kPutProgress:
      absl::StrAppend(&out, " job ", job_id);
      break;
    case Kind::kPutSetting:
    case Kind::kAppendAudit:
      absl::StrAppend(&out, " ", key);
      break;
    case Kind::kApplyQuotaChanges:
    case Kind::kPutServiceToken:
      break;
  }
  return out;
}

Fault Fault::NthWrite(uint64_t index, FaultMode mode) {
  return Fault{.match = [index](const WriteCall& w) { return w.index == index; }, .mode = mode};
}

Fault Fault::Transition(queue::JobState from, queue::JobState to, FaultMode mode) {
  return Fault{.match =
                   [from, to](const WriteCall& w) {
                     return w.update != nullptr && w.update->from == from && w.update->to == to;
                   },
               .mode = mode};
}

void FaultInjectingStore::Arm(Fault fault) {
  if (fault.error.ok()) fault.error = Fault{}.error;  // a fault must fail
  std::lock_guard lock(mu_);
  fault_ = std::move(fault);
  fault_hits_ = 0;
}

void FaultInjectingStore::Disarm() {
  std::lock_guard lock(mu_);
  fault_.reset();
}

uint64_t FaultInjectingStore::writes() const {
  std::lock_guard lock(mu_);
  return writes_;
}

uint64_t FaultInjectingStore::faults_injected() const {
  std::lock_guard lock(mu_);
  return injected_;
}

std::vector<std::string> FaultInjectingStore::history() const {
  std::lock_guard lock(mu_);
  return history_;
}

std::optional<FaultMode> FaultInjectingStore::Check(WriteCall& call, absl::Status& error) {
  std::lock_guard lock(mu_);
  call.index = ++writes_;
  history_.push_back(call.Describe());
  if (!fault_ || !fault_->match || !fault_->match(call)) return std::nullopt;
  const FaultMode mode = fault_->mode;
  error = fault_->error;
  ++injected_;
  if (fault_->times != 0 && ++fault_hits_ >= fault_->times) fault_.reset();
  return mode;
}

template <typename Callback, typename Write>
void FaultInjectingStore::Forward(WriteCall call, Callback done, Write write) {
  absl::Status error;
  std::optional<FaultMode> mode = Check(call, error);
  if (!mode) return write(std::move(done));
  if (*mode == FaultMode::kBeforeWrite) return done(error);
  write(Callback([done = std::move(done), error](auto&&) { done(error); }));
}

void FaultInjectingStore::InsertJob(queue::Job job, InsertCallback done) {
  Forward({.kind = WriteCall::Kind::kInsertJob, .job = &job}, std::move(done),
          [&](InsertCallback cb) { inner_->InsertJob(std::move(job), std::move(cb)); });
}

void FaultInjectingStore::UpdateJob(queue::JobUpdate u, DoneCallback done) {
  Forward({.kind = WriteCall::Kind::kUpdateJob, .update = &u, .job_id = u.id}, std::move(done),
          [&](DoneCallback cb) { inner_->UpdateJob(std::move(u), std::move(cb)); });
}

void FaultInjectingStore::PutSetting(std::string key, std::string value, DoneCallback done) {
  Forward({.kind = WriteCall::Kind::kPutSetting, .key = key}, std::move(done),
          [&](DoneCallback cb) {
            inner_->PutSetting(std::move(key), std::move(value), std::move(cb));
          });
}

void FaultInjectingStore::AppendCheckpoint(queue::JobId id, queue::CheckpointRecord checkpoint,
                                           DoneCallback done) {
  Forward(
      {.kind = WriteCall::Kind::kAppendCheckpoint, .job_id = id}, std::move(done),
      [&](DoneCallback cb) { inner_->AppendCheckpoint(id, std::move(checkpoint), std::move(cb)); });
}

void FaultInjectingStore::PutProgress(queue::JobId id, queue::ProgressRecord progress,
                                      DoneCallback done) {
  Forward({.kind = WriteCall::Kind::kPutProgress, .job_id = id}, std::move(done),
          [&](DoneCallback cb) { inner_->PutProgress(id, std::move(progress), std::move(cb)); });
}

void FaultInjectingStore::ApplyQuotaChanges(std::vector<QuotaChange> changes, AuditRecord audit,
                                            IdCallback done) {
  Forward({.kind = WriteCall::Kind::kApplyQuotaChanges, .key = audit.action}, std::move(done),
          [&](IdCallback cb) {
            inner_->ApplyQuotaChanges(std::move(changes), std::move(audit), std::move(cb));
          });
}

void FaultInjectingStore::AppendAudit(AuditRecord audit, DoneCallback done) {
  Forward({.kind = WriteCall::Kind::kAppendAudit, .key = audit.action}, std::move(done),
          [&](DoneCallback cb) { inner_->AppendAudit(std::move(audit), std::move(cb)); });
}

void FaultInjectingStore::PutServiceToken(ServiceTokenRecord token, AuditRecord audit,
                                          DoneCallback done) {
  Forward({.kind = WriteCall::Kind::kPutServiceToken, .key = token.id}, std::move(done),
          [&](DoneCallback cb) {
            inner_->PutServiceToken(std::move(token), std::move(audit), std::move(cb));
          });
}

}  // namespace drocc::store
