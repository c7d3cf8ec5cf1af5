// Save in asynchronous mode and with a node-local tier: the application thread captures the
// state (into the host buffer, or into the node-local shard) and hands the rest of the save
// to the background thread, which writes, flushes and commits it over its own communicator.

#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "drocc/runtime/checkpoint.h"
#include "runtime/src/checkpoint/background.h"
#include "runtime/src/checkpoint/commit.h"
#include "runtime/src/checkpoint/posix_io.h"
#include "runtime/src/checkpoint/protocol.h"

namespace drocc::runtime {

using checkpoint::FileDigest;
using checkpoint::Segment;
using checkpoint::ShardPath;
using checkpoint::ShardPlan;
using checkpoint::StepDir;

absl::Status Checkpointer::SaveInBackground(int64_t step, Clock::time_point started) {
  Communicator& comm = *comm_;
  checkpoint::Worker& worker = background_->worker;
  if (options_.when_busy == CheckpointOptions::WhenBusy::kSkip) {
    // All ranks take the same branch: skip while the save is in flight on any of them.
    if (comm.AllReduceMin(worker.Idle() ? 1 : 0) == 0) {
      std::lock_guard lock(stats_mu_);
      ++stats_.saves_skipped;
      stats_.last_save_skipped = true;
      return absl::OkStatus();
    }
  } else {
    worker.WaitIdle();
  }
  // The previous save's outcome is the same on every rank (its steps ended in agreement).
  if (std::optional<absl::Status> previous = worker.TakeOutcome(); previous && !previous->ok()) {
    return absl::Status(previous->code(),
                        absl::StrCat(previous->message(), "; step ", step,
                                     " was not saved: call Save again to save it"));
  }
  {
    std::lock_guard lock(stats_mu_);
    ++stats_.saves_started;
  }

  // Capture this rank's state: after this, the registered memory is free to change.
  const bool local = !options_.node_local_directory.empty();
  Job job{.step = step, .started = started};
  ShardPlan plan;
  absl::Status captured = PlanShard(plan);
  if (captured.ok() && options_.async) {
    checkpoint::HostBuffer& buffer = background_->buffer;
    captured = buffer.Reserve(plan.bytes, options_.async_buffer_bytes);
    if (captured.ok()) {
      // The stall of an asynchronous save: one memcpy per registered buffer, nothing else.
      char* out = buffer.data();
      for (const Segment& s : plan.segments) {
        std::memcpy(out, s.data, s.bytes);
        out += s.bytes;
      }
      job.in_buffer = true;
      job.bytes = plan.bytes;
    }
    std::lock_guard lock(stats_mu_);
    stats_.buffer_bytes = buffer.capacity();
  } else if (captured.ok()) {
    // Synchronous with a node-local tier: Save returns once the local shard is durable.
    captured = [&]() -> absl::Status {
      RETURN_IF_ERROR(checkpoint::MakeDirs(StepDir(options_.node_local_directory, step)));
      ASSIGN_OR_RETURN(job.local, checkpoint::WriteShard(
                                      ShardPath(options_.node_local_directory, step, comm.Rank()),
                                      plan.segments));
      return absl::OkStatus();
    }();
  }
  captured = checkpoint::Agree(comm, captured);
  if (!captured.ok()) {
    if (local) checkpoint::RemoveLocalShard(options_.node_local_directory, step, comm.Rank());
    std::lock_guard lock(stats_mu_);
    ++stats_.saves_failed;
    return checkpoint::NotWritten(step, captured);
  }
  job.layout = std::move(plan.items);
  worker.Start([this, job = std::move(job)]() mutable { return RunJob(job); });
  return absl::OkStatus();
}

absl::Status Checkpointer::RunJob(Job& job) {
  Communicator& comm = *background_->comm;
  const std::string& local_dir = options_.node_local_directory;
  const bool local = !local_dir.empty();
  const std::string shared_path = ShardPath(options_.directory, job.step, comm.Rank());
  const std::string local_path = local ? ShardPath(local_dir, job.step, comm.Rank()) : "";
  absl::Status status = [&]() -> absl::Status {
    RETURN_IF_ERROR(checkpoint::PrepareStepDir(comm, options_.directory, job.step));
    absl::StatusOr<FileDigest> shard = job.local;
    if (job.in_buffer) {
      std::vector<Segment> bytes;
      if (job.bytes > 0) bytes.push_back({.data = background_->buffer.data(), .bytes = job.bytes});
      if (local) {
        absl::Status made = checkpoint::MakeDirs(StepDir(local_dir, job.step));
        shard = made.ok() ? checkpoint::WriteShard(local_path, bytes) : made;
      } else {
        shard = checkpoint::WriteShard(shared_path, bytes);
      }
    }
    if (local && shard.ok()) {
      // The flush: local -> shared, verified against what was written locally.
      absl::Status copied =
          checkpoint::CopyShard(local_path, shared_path, *shard, background_->chunk);
      if (!copied.ok()) shard = copied;
    }
    ASSIGN_OR_RETURN(uint64_t bytes,
                     checkpoint::CommitStep(comm, options_.directory, job.step, job.layout, shard));
    AfterCommit(job.step, bytes, job.started, comm);
    return absl::OkStatus();
  }();
  if (status.ok()) {
    // Only the newest committed local copy stays.
    if (local) checkpoint::PruneLocal(local_dir, comm.Rank(), job.step);
    return status;
  }
  if (local) checkpoint::RemoveLocalShard(local_dir, job.step, comm.Rank());
  std::lock_guard lock(stats_mu_);
  ++stats_.saves_failed;
  return checkpoint::NotWritten(job.step, status);
}

}  // namespace drocc::runtime
