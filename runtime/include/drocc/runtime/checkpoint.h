#pragma once

// Coordinated, verified checkpoint/restart for an MPI program (SPEC §7, docs/runtime.md).
//
//   drocc::runtime::MpiCommunicator comm(MPI_COMM_WORLD);
//   auto ckpt = drocc::runtime::Checkpointer::Create({.directory = "/scratch/run1"}, &comm);
//   (*ckpt)->RegisterReplicated("lr", &lr, sizeof lr);
//   (*ckpt)->RegisterDistributed("x", x.data(), sizeof(double), global_n, my_offset, my_n);
//   auto r = (*ckpt)->Restore();            // loads the newest verified checkpoint, if any
//   for (step = r->restored ? r->step + 1 : 0; ...) { ...; (*ckpt)->Save(step); }
//
// Every method is collective: all ranks call it, with the same arguments where the comment
// says so, in the same order. A Checkpointer is not thread-safe; use it from one thread per
// rank. It does not own the registered memory nor the Communicator: both must outlive it.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "drocc/runtime/communicator.h"

namespace drocc::runtime {

namespace checkpoint {
struct Manifest;
}

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
  // Bound on the host buffer of asynchronous mode, in bytes; 0 sizes it to the registered
  // state. Save fails with ResourceExhausted (and commits nothing) if the state does not fit.
  uint64_t async_buffer_bytes = 0;
  // What an asynchronous Save does while the previous one is still being written.
  enum class WhenBusy { kWait, kSkip };
  WhenBusy when_busy = WhenBusy::kWait;
  // Optional node-local tier (e.g. $TMPDIR): shards are written there first and flushed to
  // `directory` in the background.
  std::string node_local_directory;
  // Called on rank 0 after each checkpoint has committed in `directory`, from the thread
  // that committed it. Must not call back into the Checkpointer.
  std::function<void(const CommitInfo&)> on_commit;

  // Not yet (later steps of issue 5). Create() refuses a value other than the default, so a
  // program written for them fails loudly instead of silently running without.
  bool handle_signals = false;    // Slurm --signal: final checkpoint, then requeue
  bool report_to_daemon = false;  // report each checkpoint to droccd (RuntimeService)
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

  // Writes one checkpoint of every rank's registered state as step `step` (>= 0) and returns
  // once it is committed (durable and the newest), then applies retention. On error nothing
  // new is visible and the previous checkpoints are intact; every rank returns the same status.
  absl::Status Save(int64_t step);

  // Waits until no save is in flight and returns the status of the last one (OK when none).
  // In synchronous mode there is never one in flight. Collective.
  absl::Status Wait();

  // Loads the newest complete and verified checkpoint into the registered state, passing
  // over (and reporting) any newer one that is incomplete or corrupt. Every rank returns the
  // same result. An error status means a problem that falling back would not fix (the
  // directory cannot be read, registered state does not match what was saved).
  absl::StatusOr<RestoreResult> Restore();

 private:
  struct Item;  // one registered piece of state; defined in checkpointer.cc
  Checkpointer(CheckpointOptions options, Communicator* comm);
  absl::Status Register(Item item);
  void ApplyRetention(int64_t committed_step);  // rank 0 only
  absl::Status CheckCompatible(const checkpoint::Manifest& m) const;
  absl::Status VerifyShards(const checkpoint::Manifest& m, const std::string& dir) const;
  absl::Status Load(const checkpoint::Manifest& m, const std::string& dir);

  CheckpointOptions options_;
  Communicator* comm_;
  std::vector<Item> items_;
};

// "ckpt-000000000042": the directory name of a step's checkpoint.
std::string CheckpointDirName(int64_t step);

}  // namespace drocc::runtime
