#include "daemon/slurm/job_record.h"

#include <slurm/slurm.h>
#include <sys/wait.h>

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

namespace drocc::slurm {

static_assert(kSlurmPending == JOB_PENDING && kSlurmRunning == JOB_RUNNING &&
              kSlurmSuspended == JOB_SUSPENDED && kSlurmComplete == JOB_COMPLETE &&
              kSlurmCancelled == JOB_CANCELLED && kSlurmFailed == JOB_FAILED &&
              kSlurmTimeout == JOB_TIMEOUT && kSlurmNodeFail == JOB_NODE_FAIL &&
              kSlurmPreempted == JOB_PREEMPTED && kSlurmBootFail == JOB_BOOT_FAIL &&
              kSlurmDeadline == JOB_DEADLINE && kSlurmOom == JOB_OOM);
static_assert(kSlurmStateBase == JOB_STATE_BASE && kSlurmFlagRequeue == JOB_REQUEUE &&
              kSlurmFlagRequeueHold == JOB_REQUEUE_HOLD &&
              kSlurmFlagSpecialExit == JOB_SPECIAL_EXIT && kSlurmFlagCompleting == JOB_COMPLETING &&
              kSlurmFlagRequeueFed == JOB_REQUEUE_FED);

namespace {

using queue::JobState;

// Slurm's reason, with its details when it gave any.
std::string SlurmReason(const SlurmJobRecord& r) {
  if (r.state_desc.empty()) return r.state_reason;
  if (r.state_reason.empty()) return r.state_desc;
  return absl::StrCat(r.state_reason, ": ", r.state_desc);
}

// "what happened" followed by Slurm's reason in parentheses, if any.
std::string Explain(absl::string_view what, const SlurmJobRecord& r) {
  std::string slurm = SlurmReason(r);
  return slurm.empty() ? std::string(what) : absl::StrCat(what, " (", slurm, ")");
}

}  // namespace

int DecodeWaitStatus(uint32_t status) {
  const int s = static_cast<int>(status);
  if (WIFEXITED(s)) return WEXITSTATUS(s);
  if (WIFSIGNALED(s)) return 128 + WTERMSIG(s);
  return s >> 8;
}

uint32_t GpusInTres(std::string_view tres) {
  uint64_t untyped = 0;
  uint64_t typed = 0;
  bool has_untyped = false;
  for (absl::string_view entry : absl::StrSplit(absl::string_view(tres.data(), tres.size()), ',')) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(entry, absl::MaxSplits('=', 1));
    uint64_t n = 0;
    if (!absl::SimpleAtoi(kv.second, &n)) continue;
    if (kv.first == "gres/gpu") {
      untyped += n;
      has_untyped = true;
    } else if (absl::StartsWith(kv.first, "gres/gpu:")) {
      typed += n;
    }
  }
  const uint64_t n = has_untyped ? untyped : typed;
  return static_cast<uint32_t>(std::min<uint64_t>(n, UINT32_MAX));
}

std::optional<uint32_t> GpusInGres(std::string_view gres) {
  std::optional<uint32_t> total;
  for (absl::string_view entry :
       absl::StrSplit(absl::string_view(gres.data(), gres.size()), ',', absl::SkipEmpty())) {
    entry = entry.substr(0, entry.find('('));  // "(IDX:0-1)", "(S:0)"
    if (entry != "gpu" && !absl::StartsWith(entry, "gpu:")) continue;
    const size_t colon = entry.rfind(':');
    uint32_t n = 0;
    if (colon == absl::string_view::npos || !absl::SimpleAtoi(entry.substr(colon + 1), &n)) {
      continue;
    }
    total = total.value_or(0) + n;
  }
  return total;
}

std::optional<BackendJob> ToBackendJob(const SlurmJobRecord& r) {
  std::optional<DroccTag> tag = ParseDroccComment(r.comment);
  if (!tag) return std::nullopt;

  BackendJob b;
  b.slurm_job_id = r.job_id;
  b.drocc_id = tag->id;
  b.instance = std::move(tag->instance);
  b.uid = r.user_id;
  b.nodes = r.nodes;
  bool ended = true;
  const uint32_t requeue_flags =
      kSlurmFlagRequeue | kSlurmFlagRequeueHold | kSlurmFlagSpecialExit | kSlurmFlagRequeueFed;
  switch (r.job_state & kSlurmStateBase) {
    case kSlurmPending:
      ended = false;
      if ((r.job_state & requeue_flags) != 0 || r.restart_cnt > 0) {
        b.state = JobState::kRequeued;
        b.reason = Explain(absl::StrCat("requeued by Slurm (", r.restart_cnt, " times)"), r);
      } else {
        b.state = JobState::kAdmitted;
        b.reason = SlurmReason(r);
      }
      break;
    case kSlurmRunning:
      ended = false;
      b.state = JobState::kRunning;
      b.reason = SlurmReason(r);
      break;
    case kSlurmSuspended:
      ended = false;
      b.state = JobState::kRunning;
      b.reason = Explain("suspended", r);
      break;
    case kSlurmComplete:
      b.state = JobState::kCompleted;
      b.reason = SlurmReason(r);
      break;
    case kSlurmCancelled:
      b.state = JobState::kCancelled;
      b.reason = SlurmReason(r);
      break;
    case kSlurmFailed:
      b.state = JobState::kFailed;
      b.reason = Explain("failed", r);
      if (r.launch_failed) {
        b.reason = absl::StrCat("the job script could not be started (", SlurmReason(r),
                                r.launch_error.empty() ? "" : ": ", r.launch_error,
                                "); check that its owner can write the output and error "
                                "paths and read the work dir");
      }
      break;
    case kSlurmNodeFail:
      b.state = JobState::kFailed;
      b.reason = Explain("node failure", r);
      break;
    case kSlurmBootFail:
      b.state = JobState::kFailed;
      b.reason = Explain("node boot failure", r);
      break;
    case kSlurmDeadline:
      b.state = JobState::kFailed;
      b.reason = Explain("deadline reached", r);
      break;
    case kSlurmOom:
      b.state = JobState::kFailed;
      b.reason = Explain("out of memory", r);
      break;
    case kSlurmTimeout:
      b.state = JobState::kTimeout;
      b.reason = SlurmReason(r);
      break;
    case kSlurmPreempted:
      b.state = JobState::kRequeued;
      b.reason = Explain("preempted", r);
      break;
    default:
      b.state = JobState::kFailed;
      b.reason =
          Explain(absl::StrCat("unknown Slurm job state ", r.job_state & kSlurmStateBase), r);
  }
  const bool ran = b.state == JobState::kRunning || (ended && !r.nodes.empty());
  if (ran && r.start_time > 0) b.start_time = absl::FromTimeT(r.start_time);
  if (ended && r.end_time > 0) b.end_time = absl::FromTimeT(r.end_time);
  if (ran && !r.tres_alloc.empty()) {
    b.alloc_nodes = r.num_nodes;
    b.alloc_cpus = r.num_cpus;
    b.alloc_gpus = GpusInTres(r.tres_alloc);
    if (b.alloc_gpus == 0) b.alloc_gpus = GpusInGres(r.gres_total).value_or(0);
  }
  if (ended && b.state != JobState::kRequeued && !r.launch_failed) {
    b.exit_code = DecodeWaitStatus(r.exit_code);
  }
  return b;
}

}  // namespace drocc::slurm
