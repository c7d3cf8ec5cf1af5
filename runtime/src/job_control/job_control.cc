#include "drocc/runtime/job_control.h"

#include <signal.h>

#include <cstdlib>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/job_env.h"
#include "runtime/src/checkpoint/protocol.h"
#include "runtime/src/job_control/grpc_daemon_client.h"
#include "runtime/src/job_control/report_sender.h"
#include "runtime/src/job_control/slurm_requeuer.h"
#include "runtime/src/job_control/stop_signals.h"

namespace drocc::runtime {

// The public header repeats droccd's names so it stands alone; they must be droccd's.
static_assert(std::string_view(kJobIdEnv) == drocc::kJobIdVar);
static_assert(std::string_view(kJobTokenEnv) == drocc::kJobTokenVar);
static_assert(std::string_view(kServerEnv) == drocc::kServerVar);
static_assert(std::string_view(kJobTokenMetadataKey) == drocc::kJobTokenMetadataKey);

using job_control::ReportSender;

absl::StatusOr<std::unique_ptr<JobControl>> JobControl::Create(JobControlOptions options,
                                                               Communicator* comm) {
  if (comm == nullptr) return absl::InvalidArgumentError("JobControl needs a Communicator");
  std::unique_ptr<JobControl> jc(new JobControl(std::move(options), comm));
  // Every rank must come out of Create alike, or the first AgreeStop would hang.
  absl::Status all = checkpoint::Agree(*comm, jc->Init());
  if (!all.ok()) return all;  // jc's destructor restores whatever handlers it installed
  return jc;
}

JobControl::JobControl(JobControlOptions options, Communicator* comm)
    : options_(std::move(options)), comm_(comm) {}

JobControl::~JobControl() {
  handlers_.reset();
  sender_.reset();  // bounded by options_.flush_timeout
}

absl::Status JobControl::Init() {
  if (options_.handle_signals) {
    std::vector<int> signals = {SIGUSR1};
    if (const char* env = std::getenv(kCheckpointSignalEnv); env != nullptr && env[0] != '\0') {
      auto parsed = job_control::ParseStopSignals(env);
      if (!parsed.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat(kCheckpointSignalEnv, "=\"", env, "\": ", parsed.status().message()));
      }
      signals = *std::move(parsed);
    } else if (!options_.stop_signals.empty()) {
      signals = options_.stop_signals;
    }
    auto handlers = job_control::StopSignalHandlers::Install(std::move(signals));
    if (!handlers.ok()) return handlers.status();
    handlers_ = *std::move(handlers);
    stop_signals_ = handlers_->signals();
  }
  if (comm_->Rank() == 0) {
    std::shared_ptr<DaemonClient> client = options_.daemon;
    if (client == nullptr) {
      auto env = job_control::DaemonEnvironmentFromEnv();
      if (!env.ok()) return env.status();
      if (env->has_value()) client = job_control::NewGrpcDaemonClient(**std::move(env));
    }
    if (client != nullptr) {
      sender_ = std::make_unique<ReportSender>(
          std::move(client), ReportSender::Options{.capacity = options_.report_queue_capacity,
                                                   .call_timeout = options_.report_timeout,
                                                   .flush_timeout = options_.flush_timeout});
    }
  }
  return absl::OkStatus();
}

bool JobControl::StopRequested() const { return StopSignal() != 0; }

int JobControl::StopSignal() const {
  return handlers_ != nullptr ? job_control::ReceivedStopSignal() : 0;
}

bool JobControl::AgreeStop() {
  // Once every rank has agreed, every rank returns here without communicating: still alike.
  if (agreed_stop_) return true;
  agreed_stop_ = comm_->AllReduceMin(StopRequested() ? -1 : 0) < 0;  // max of 0/1
  return agreed_stop_;
}

void JobControl::ReportCheckpoint(const CommitInfo& commit) {
  if (sender_ == nullptr) return;
  sender_->Push([report = CheckpointReport{.commit = commit, .time = absl::Now()}](
                    DaemonClient& client, absl::Duration timeout) {
    return client.ReportCheckpoint(report, timeout);
  });
}

void JobControl::ReportProgress(ProgressReport report) {
  if (sender_ == nullptr) return;
  sender_->Push([report = std::move(report)](DaemonClient& client, absl::Duration timeout) {
    return client.ReportProgress(report, timeout);
  });
}

ReportStats JobControl::report_stats() const {
  return sender_ != nullptr ? sender_->stats() : ReportStats{};
}

absl::Status JobControl::RequestRequeue(int64_t checkpoint_step, std::string reason) {
  absl::Status mine;
  if (comm_->Rank() == 0) mine = RequeueOnRank0(checkpoint_step, reason);
  return checkpoint::Agree(*comm_, mine);  // rank 0's status, on every rank
}

absl::Status JobControl::RequeueOnRank0(int64_t checkpoint_step, const std::string& reason) {
  std::vector<std::string> why_not;  // each way of requeueing that failed, and why
  if (sender_ != nullptr) {
    // droccd should know the checkpoint the next run resumes from before anything ends the job.
    sender_->Flush(options_.flush_timeout);
    DaemonClient& droccd = sender_->client();
    auto answer = droccd.RequestRequeue(checkpoint_step, reason, options_.requeue_timeout);
    if (answer.ok() && answer->accepted) return absl::OkStatus();
    why_not.push_back(!answer.ok() ? absl::StrCat("droccd at ", droccd.Target(),
                                                  " did not answer: ", answer.status().message())
                                   : absl::StrCat("droccd refused: ", answer->message.empty()
                                                                          ? "it gave no reason"
                                                                          : answer->message));
  } else {
    why_not.push_back(
        absl::StrCat("the job was not started by droccd (", kJobTokenEnv, " is not set)"));
  }

  auto slurm_job = job_control::SlurmJobIdFromEnv();
  if (!slurm_job.ok()) {
    why_not.push_back(std::string(slurm_job.status().message()));
  } else if (!slurm_job->has_value()) {
    why_not.push_back("it is not a Slurm job (SLURM_JOB_ID is not set)");
  } else {
    std::shared_ptr<SlurmRequeuer> slurm = options_.slurm;
    if (slurm == nullptr) slurm = job_control::NewLibSlurmRequeuer();
    absl::Status s = slurm->Requeue(**slurm_job);
    if (s.ok()) {
      if (sender_ != nullptr) {
        checkpoint::Log(
            absl::StrCat(why_not.front(), "; Slurm requeues job ", **slurm_job, " instead"));
      }
      return absl::OkStatus();
    }
    why_not.push_back(std::string(s.message()));
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "this job cannot be requeued: ", absl::StrJoin(why_not, "; "), ". Resubmit it: it resumes ",
      checkpoint_step >= 0 ? absl::StrCat("from its checkpoint of step ", checkpoint_step)
                           : std::string("from the start (no checkpoint was taken)")));
}

}  // namespace drocc::runtime
