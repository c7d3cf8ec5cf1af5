#include "daemon/queue/fifo_admission.h"

#include "absl/strings/str_cat.h"

namespace drocc::queue {

AdmissionPlan PlanFifoAdmission(const AdmissionInput& in) {
  AdmissionPlan plan;
  if (in.drained) {
    std::string reason = "admission drained by an admin";
    if (!in.drain_reason.empty()) absl::StrAppend(&reason, ": ", in.drain_reason);
    for (JobId id : in.pending) plan.wait.emplace_back(id, reason);
    return plan;
  }
  uint32_t in_slurm = in.jobs_in_slurm;
  for (size_t i = 0; i < in.pending.size(); ++i) {
    if (in.max_jobs_in_slurm == 0 || in_slurm < in.max_jobs_in_slurm) {
      plan.admit.push_back(in.pending[i]);
      ++in_slurm;
    } else {
      // No queue position in the reason: it would change for every waiting job whenever one
      // is admitted, and reasons are stored.
      plan.wait.emplace_back(in.pending[i],
                             absl::StrCat("cluster full: ", in_slurm, " of ", in.max_jobs_in_slurm,
                                          " drocc jobs in Slurm"));
    }
  }
  return plan;
}

}  // namespace drocc::queue
