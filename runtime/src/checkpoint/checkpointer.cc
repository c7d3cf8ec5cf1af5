// Checkpointer: creation, registration, Save in plain synchronous mode, and what every mode
// shares (the shard plan, what follows a commit, counters). The background part of
// asynchronous mode and of the node-local tier is in background.cc.

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status.h"
#include "drocc/runtime/checkpoint.h"
#include "runtime/src/checkpoint/background.h"
#include "runtime/src/checkpoint/commit.h"
#include "runtime/src/checkpoint/item.h"
#include "runtime/src/checkpoint/manifest.h"
#include "runtime/src/checkpoint/posix_io.h"
#include "runtime/src/checkpoint/protocol.h"

namespace drocc::runtime {

using checkpoint::ItemKind;
using checkpoint::Log;
using checkpoint::ShardPlan;
using checkpoint::SliceEntry;

std::string CheckpointDirName(int64_t step) { return absl::StrFormat("ckpt-%012d", step); }

Checkpointer::Checkpointer(CheckpointOptions options, Communicator* comm)
    : options_(std::move(options)), comm_(comm) {}

Checkpointer::~Checkpointer() {
  if (background_ == nullptr) return;
  background_->worker.WaitIdle();
  std::optional<absl::Status> outcome = background_->worker.TakeOutcome();
  if (outcome && !outcome->ok() && comm_->Rank() == 0) {
    Log(
        absl::StrCat("the last checkpoint failed and neither Save nor Wait returned that (call "
                     "Wait() before destroying the Checkpointer to get it): ",
                     outcome->message()));
  }
  background_.reset();
}

absl::StatusOr<std::unique_ptr<Checkpointer>> Checkpointer::Create(CheckpointOptions options,
                                                                   Communicator* comm) {
  if (comm == nullptr) {
    return absl::InvalidArgumentError(
        "no communicator; pass an MpiCommunicator (or a LocalCommunicator without MPI)");
  }
  if (options.directory.empty()) {
    return absl::InvalidArgumentError(
        "CheckpointOptions.directory is empty; set it to a "
        "directory on a filesystem every rank can reach");
  }
  for (std::string* dir : {&options.directory, &options.node_local_directory}) {
    while (dir->size() > 1 && dir->back() == '/') dir->pop_back();
  }
  if (options.keep_last < 0) {
    return absl::InvalidArgumentError("CheckpointOptions.keep_last must be >= 0 (0 keeps all)");
  }
  if (options.node_local_directory == options.directory) {
    return absl::InvalidArgumentError(
        "CheckpointOptions.node_local_directory is the shared directory itself; set it to "
        "node-local storage (e.g. $TMPDIR), or leave it empty");
  }
  if (options.handle_signals || options.report_to_daemon) {
    return absl::UnimplementedError(
        "signal handling and reporting to droccd are not implemented yet; leave "
        "CheckpointOptions.handle_signals and report_to_daemon false");
  }
  const bool background = options.async || !options.node_local_directory.empty();
  std::unique_ptr<Checkpointer> c(new Checkpointer(std::move(options), comm));
  if (background) {
    absl::StatusOr<std::unique_ptr<Communicator>> dup = comm->Duplicate();
    if (!dup.ok()) {
      return absl::Status(dup.status().code(),
                          absl::StrCat("asynchronous mode and the node-local tier save from a "
                                       "background thread: ",
                                       dup.status().message()));
    }
    c->background_ = std::make_unique<Background>();
    c->background_->comm = *std::move(dup);
  }
  return c;
}

absl::Status Checkpointer::Register(Item item) {
  if (item.name.empty()) return absl::InvalidArgumentError("a checkpoint item needs a name");
  for (const Item& other : items_) {
    if (other.name == item.name) {
      return absl::AlreadyExistsError(absl::StrCat("checkpoint item \"", item.name,
                                                   "\" is already registered; use a "
                                                   "different name for each piece of state"));
    }
  }
  items_.push_back(std::move(item));
  return absl::OkStatus();
}

absl::Status Checkpointer::RegisterReplicated(std::string name, void* data, uint64_t bytes) {
  if (data == nullptr && bytes > 0) {
    return absl::InvalidArgumentError(absl::StrCat("replicated item \"", name, "\": no data"));
  }
  return Register({.name = std::move(name),
                   .kind = ItemKind::kReplicated,
                   .data = static_cast<char*>(data),
                   .global_count = bytes});
}

absl::Status Checkpointer::RegisterDistributed(std::string name, void* data, uint64_t element_size,
                                               uint64_t global_count, uint64_t offset,
                                               uint64_t count) {
  if (element_size == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("distributed item \"", name, "\": element_size must be > 0"));
  }
  if (offset > global_count || count > global_count - offset) {
    return absl::InvalidArgumentError(
        absl::StrFormat("distributed item \"%s\": slice [%d, %d) lies outside the array of %d "
                        "elements",
                        name, offset, offset + count, global_count));
  }
  if (data == nullptr && count > 0) {
    return absl::InvalidArgumentError(absl::StrCat("distributed item \"", name, "\": no data"));
  }
  return Register({.name = std::move(name),
                   .kind = ItemKind::kDistributed,
                   .data = static_cast<char*>(data),
                   .element_size = element_size,
                   .global_count = global_count,
                   .offset = offset,
                   .count = count});
}

absl::Status Checkpointer::RegisterCallback(std::string name, SaveFn save, LoadFn load) {
  if (!save || !load) {
    return absl::InvalidArgumentError(
        absl::StrCat("callback item \"", name, "\" needs both a save and a load function"));
  }
  return Register({.name = std::move(name),
                   .kind = ItemKind::kCallback,
                   .global_count = 0,
                   .save = std::move(save),
                   .load = std::move(load)});
}

// ---- Save -------------------------------------------------------------------------------

absl::Status Checkpointer::PlanShard(ShardPlan& plan) const {
  plan = {};
  // The callbacks first, so that the segments can point into `blobs` once it stops growing.
  for (const Item& item : items_) {
    if (item.kind != ItemKind::kCallback) continue;
    absl::StatusOr<std::string> blob = item.save();
    if (!blob.ok()) {
      return absl::Status(
          blob.status().code(),
          absl::StrCat("save callback \"", item.name, "\" failed: ", blob.status().message()));
    }
    plan.blobs.push_back(*std::move(blob));
  }
  size_t next_blob = 0;
  for (const Item& item : items_) {
    SliceEntry slice{.rank = comm_->Rank(), .file_offset = plan.bytes};
    const char* data = item.data;
    switch (item.kind) {
      case ItemKind::kReplicated:  // saved once, from rank 0
        if (comm_->Rank() == 0) slice.count = slice.bytes = item.global_count;
        break;
      case ItemKind::kDistributed:
        slice.offset = item.offset;
        slice.count = item.count;
        slice.bytes = item.count * item.element_size;
        break;
      case ItemKind::kCallback: {
        const std::string& blob = plan.blobs[next_blob++];
        data = blob.data();
        slice.count = slice.bytes = blob.size();
        break;
      }
    }
    if (slice.bytes > 0) plan.segments.push_back({.data = data, .bytes = slice.bytes});
    plan.bytes += slice.bytes;
    plan.items.push_back({.name = item.name,
                          .kind = item.kind,
                          .element_size = item.element_size,
                          .global_count = item.global_count,
                          .slices = {slice}});
  }
  return absl::OkStatus();
}

absl::Status Checkpointer::Save(int64_t step) {
  const Clock::time_point started = Clock::now();
  {
    std::lock_guard lock(stats_mu_);
    stats_.last_save_skipped = false;
  }
  absl::Status status = [&]() -> absl::Status {
    // Agree on the step first: a rank returning early alone would leave the others waiting.
    Communicator& comm = *comm_;
    const int64_t mine = std::max<int64_t>(step, -1);
    const int64_t max_step = -comm.AllReduceMin(-mine);
    const int64_t min_step = comm.AllReduceMin(mine);
    if (min_step != max_step) {
      return absl::InvalidArgumentError(
          absl::StrCat("ranks passed different steps to Save (this rank: ", step,
                       "); call Save with the same step on every rank"));
    }
    if (step < 0) return absl::InvalidArgumentError(absl::StrCat("step ", step, " is negative"));
    return background_ != nullptr ? SaveInBackground(step, started)
                                  : SaveSynchronously(step, started);
  }();
  std::lock_guard lock(stats_mu_);
  stats_.last_stall_seconds = std::chrono::duration<double>(Clock::now() - started).count();
  return status;
}

absl::Status Checkpointer::SaveSynchronously(int64_t step, Clock::time_point started) {
  Communicator& comm = *comm_;
  {
    std::lock_guard lock(stats_mu_);
    ++stats_.saves_started;
  }
  absl::Status status = [&]() -> absl::Status {
    RETURN_IF_ERROR(checkpoint::PrepareStepDir(comm, options_.directory, step));
    ShardPlan plan;
    absl::Status planned = PlanShard(plan);
    absl::StatusOr<checkpoint::FileDigest> shard =
        planned.ok()
            ? checkpoint::WriteShard(checkpoint::ShardPath(options_.directory, step, comm.Rank()),
                                     plan.segments)
            : planned;
    ASSIGN_OR_RETURN(uint64_t bytes,
                     checkpoint::CommitStep(comm, options_.directory, step, plan.items, shard));
    AfterCommit(step, bytes, started, comm);
    return absl::OkStatus();
  }();
  if (status.ok()) return status;
  std::lock_guard lock(stats_mu_);
  ++stats_.saves_failed;
  return checkpoint::NotWritten(step, status);
}

void Checkpointer::AfterCommit(int64_t step, uint64_t bytes, Clock::time_point started,
                               Communicator& comm) {
  const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
  {
    std::lock_guard lock(stats_mu_);
    ++stats_.saves_committed;
    stats_.last_committed_step = step;
  }
  if (comm.Rank() != 0) return;
  checkpoint::ApplyRetention(options_.directory, options_.keep_last, step);
  if (options_.on_commit) {
    options_.on_commit({.step = step,
                        .bytes = bytes,
                        .seconds = seconds,
                        .path = checkpoint::StepDir(options_.directory, step),
                        .ranks = comm.Size()});
  }
}

absl::Status Checkpointer::Wait() {
  if (background_ == nullptr) return absl::OkStatus();
  background_->worker.WaitIdle();
  return background_->worker.TakeOutcome().value_or(absl::OkStatus());
}

CheckpointStats Checkpointer::Stats() const {
  std::lock_guard lock(stats_mu_);
  return stats_;
}

}  // namespace drocc::runtime
