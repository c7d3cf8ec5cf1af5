#pragma once

// Coordinated, verified checkpoint/restart for an MPI program (SPEC §7, docs/runtime.md).
//
//   drocc::runtime::MpiCommunicator comm(MPI_COMM_WORLD);
//   auto ckpt = drocc::runtime::Checkpointer::Create({.directory = "/scratch/run1"}, &comm);
//   (*ckpt)->RegisterReplicated("lr", &lr, sizeof lr);
//   (*ckpt)->RegisterDistributed("x", x.data(), sizeof(double), global_n, my_offset, my_n);
//   auto r = (*ckpt)->Restore();            // loads the newest verified checkpoint, if any
//   for (step = r->restored ? r->step + 1 : 0; ...) { ...; (*ckpt)->Save(step); }
//   (*ckpt)->Wait();                        // asynchronous mode: the last save is durable
//
// Every method is collective: all ranks call it, with the same arguments where the comment
// says so, in the same order; so is the destructor. A Checkpointer is not thread-safe; use it
// from one thread per rank. It does not own the registered memory nor the Communicator: both
// must outlive it. In asynchronous mode and with a node-local tier it runs one background
// thread per rank, which communicates over a Communicator::Duplicate() of `comm`: under MPI
// that needs MPI_Init_thread with MPI_THREAD_MULTIPLE (Create says so otherwise), and the
// Checkpointer must be destroyed before MPI_Finalize.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "drocc/runtime/communicator.h"

namespace drocc::runtime {

namespace checkpoint {
struct Manifest;
struct ShardPlan;
}  // namespace checkpoint

// What a committed checkpoint was; passed to CheckpointOptions::on_commit.
struct CommitInfo {
  int64_t step = -1;
  uint64_t bytes = 0;  // all shards of all ranks (and the manifest)
  double seconds = 0;  // from the Save call to the commit in `directory`
  std::string path;    // <directory>/ckpt-<step>
  int ranks = 0;       // how many ranks wrote it
};

struct CheckpointOptions {
  // Shared directory that holds the checkpoints (ckpt-<step>/...). Created if missing.
  std::string directory;
  // Keep the newest `keep_last` committed checkpoints; older ones are deleted only after a
  // newer one has committed. 0 keeps all.
  int keep_last = 3;

  // Asynchronous mode: Save copies the registered state into a host buffer and returns; a
  // background thread writes and commits it. "Latest" moves only once it is durable.
  bool async = false;
  // Bound on the host buffer of asynchronous mode, in bytes per rank; 0 sizes it to the
  // registered state. Save fails with ResourceExhausted (and commits nothing) if the state
  // does not fit. The buffer is allocated at the first Save and reused. Ignored unless async.
  uint64_t async_buffer_bytes = 0;
  // What Save does while the previous save is still in flight (being written, flushed from
  // the node-local tier or committed): wait for it, or skip this one (Save returns OK at once
  // and saves nothing; Stats() counts it). Plain synchronous saves are never in flight.
  enum class WhenBusy { kWait, kSkip };
  WhenBusy when_busy = WhenBusy::kWait;
  // Optional node-local tier (e.g. $TMPDIR): shards are written there first and flushed to
  // `directory` in the background. Only the newest committed local copy is kept. Restore reads
  // `directory` only. Use a directory of this job's own (ranks on a node share it).
  std::string node_local_directory;
  // Called on rank 0 after each checkpoint has committed in `directory`, from the thread
  // that committed it. Must not call back into the Checkpointer.
  std::function<void(const CommitInfo&)> on_commit;

  // Not yet (later steps of issue 5). Create() refuses a value other than the default, so a
  // program written for them fails loudly instead of silently running without.
  bool handle_signals = false;    // Slurm --signal: final checkpoint, then requeue
  bool report_to_daemon = false;  // report each checkpoint to droccd (RuntimeService)
};

// Counters of this rank's saves (every rank sees the same ones), for monitoring and tests.
struct CheckpointStats {
  int64_t saves_started = 0;    // Save calls that began a checkpoint
  int64_t saves_skipped = 0;    // Save calls that returned at once, saving nothing (kSkip)
  int64_t saves_committed = 0;  // checkpoints committed in `directory`
  int64_t saves_failed = 0;     // checkpoints begun that did not commit
  int64_t last_committed_step = -1;
  bool last_save_skipped = false;  // the most recent Save call was a skip
  double last_stall_seconds = 0;   // how long the most recent Save call took to return
  uint64_t buffer_bytes = 0;       // host buffer allocated (asynchronous mode), 0 before
};

// What Restore() did.
struct RestoreResult {
  bool restored = false;  // false: no complete and verified checkpoint exists; state untouched
  int64_t step = -1;      // the step restored, when restored
  // One line per newer checkpoint that was passed over and why, newest first (also logged to
  // stderr by rank 0), e.g. "ckpt-000000000200: shard-000003.bin: checksum mismatch ...".
  std::vector<std::string> skipped;
};

class Checkpointer {
 public:
  // Per-rank opaque state. Save returns this rank's bytes; Load receives exactly them back.
  using SaveFn = std::function<absl::StatusOr<std::string>()>;
  using LoadFn = std::function<absl::Status(std::string_view)>;

  // `comm` is not owned and must outlive the Checkpointer. Collective.
  static absl::StatusOr<std::unique_ptr<Checkpointer>> Create(CheckpointOptions options,
                                                              Communicator* comm);
  // Waits for a save in flight, so a save Save acknowledged is committed unless it fails; a
  // failure nobody has been told about is logged to stderr (call Wait() first to get it).
  // Collective, and before MPI_Finalize.
  ~Checkpointer();
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  // Registration is local (not collective) but every rank must register the same names, of
  // the same kinds and sizes, in the same order. Names are unique.

  // `bytes` at `data`, identical on every rank: saved once (from rank 0), loaded on all.
  absl::Status RegisterReplicated(std::string name, void* data, uint64_t bytes);
  // A 1-D array of `global_count` elements of `element_size` bytes, of which this rank holds
  // elements [offset, offset + count) at `data`. The slices of all ranks must tile the array
  // exactly. On restore each rank gets its current slice, whatever the slicing (and the
  // number of ranks) when it was saved.
  absl::Status RegisterDistributed(std::string name, void* data, uint64_t element_size,
                                   uint64_t global_count, uint64_t offset, uint64_t count);
  // Anything else, per rank. Restoring it needs the same number of ranks as when saved.
  absl::Status RegisterCallback(std::string name, SaveFn save, LoadFn load);

  // Writes one checkpoint of every rank's registered state as step `step` (>= 0). On error
  // nothing new is visible and the previous checkpoints are intact; every rank returns the
  // same status. Retention is applied after each commit.
  //
  // Synchronous (the default): returns once the checkpoint is committed (durable and the
  // newest). With node_local_directory: returns once this rank's shard is durable in the
  // node-local tier; the flush to `directory` and the commit run in the background.
  //
  // Asynchronous: copies the state (registered buffers, one memcpy each, and the save
  // callbacks' bytes, which are called here) into the host buffer and returns; the background
  // thread writes, checksums and commits it, and only then does Restore find it. The
  // registered memory may change as soon as Save returns. With `async_buffer_bytes` too small
  // for a rank's state: ResourceExhausted, nothing saved.
  //
  // At most one save is in flight. If one is (on any rank), Save first waits for it (kWait)
  // or returns OK at once without saving anything (kSkip; counted in Stats()). If the save
  // before failed in the background and Wait() has not returned that failure yet, Save returns
  // it and does not start step `step` (call Save again to save it).
  absl::Status Save(int64_t step);

  // Waits until no save is in flight (written, flushed and committed, or failed) and returns
  // its outcome if not returned yet: the status of a background save that failed, OK
  // otherwise (also when there was none, and always in plain synchronous mode). Collective.
  absl::Status Wait();

  // Loads the newest complete and verified checkpoint into the registered state, passing
  // over (and reporting) any newer one that is incomplete or corrupt. Every rank returns the
  // same result. An error status means a problem that falling back would not fix (the
  // directory cannot be read, registered state does not match what was saved). Waits for a
  // save in flight first, leaving its outcome to the next Wait or Save.
  absl::StatusOr<RestoreResult> Restore();

  // This rank's counters. Cheap; may be called any time from the thread that uses the
  // Checkpointer.
  CheckpointStats Stats() const;

 private:
  struct Item;        // one registered piece of state; defined in item.h
  struct Background;  // thread, buffer and communicator of background saves; background.h
  struct Job;         // one save handed to the background thread; background.h
  using Clock = std::chrono::steady_clock;

  Checkpointer(CheckpointOptions options, Communicator* comm);
  absl::Status Register(Item item);
  // This rank's shard of the next save: its layout, with the segments pointing at the
  // registered memory and the save callbacks' bytes.
  absl::Status PlanShard(checkpoint::ShardPlan& plan) const;
  absl::Status SaveSynchronously(int64_t step, Clock::time_point started);
  absl::Status SaveInBackground(int64_t step, Clock::time_point started);
  // The background thread's part of a save: write (async), flush (node-local), commit.
  absl::Status RunJob(Job& job);
  // Rank 0 after a commit: retention, then on_commit. Every rank: counters.
  void AfterCommit(int64_t step, uint64_t bytes, Clock::time_point started, Communicator& comm);
  absl::Status CheckCompatible(const checkpoint::Manifest& m) const;
  absl::Status VerifyShards(const checkpoint::Manifest& m, const std::string& dir) const;
  absl::Status Load(const checkpoint::Manifest& m, const std::string& dir);

  CheckpointOptions options_;
  Communicator* comm_;
  std::vector<Item> items_;
  // Written by the application thread and the background thread.
  mutable std::mutex stats_mu_;
  CheckpointStats stats_;                   // guarded by stats_mu_
  std::unique_ptr<Background> background_;  // async or node-local only; destroyed first
};

// "ckpt-000000000042": the directory name of a step's checkpoint.
std::string CheckpointDirName(int64_t step);

}  // namespace drocc::runtime
