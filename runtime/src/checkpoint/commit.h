#pragma once

// The steps of one save (docs/runtime.md, "The commit protocol"), shared by the synchronous
// path (on the application thread) and the background one (on the worker thread, with its
// own Communicator). The collective steps end with every rank holding the same status.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "drocc/runtime/communicator.h"
#include "runtime/src/checkpoint/manifest.h"
#include "runtime/src/checkpoint/posix_io.h"

namespace drocc::runtime::checkpoint {

// Bytes in memory that become one contiguous part of a shard.
struct Segment {
  const char* data = nullptr;
  uint64_t bytes = 0;
};

// What this rank writes in one save: the layout of its shard (every registered item, each
// with this rank's one slice) and, in file order, where the bytes are.
struct ShardPlan {
  std::vector<ItemEntry> items;
  std::vector<Segment> segments;   // point into registered memory, `blobs` or the host buffer
  std::vector<std::string> blobs;  // the save callbacks' bytes
  uint64_t bytes = 0;
};

// "<directory>/ckpt-<step>".
std::string StepDir(const std::string& directory, int64_t step);
// "<directory>/ckpt-<step>/shard-<rank>.bin", in the shared directory or the node-local tier.
std::string ShardPath(const std::string& directory, int64_t step, int rank);
// `status` with its message prefixed "checkpoint of step <step> not written: ".
absl::Status NotWritten(int64_t step, const absl::Status& status);

// Collective. Rank 0 creates <directory>/ckpt-<step>/; if that step was saved before, its
// manifest goes first (the shards are about to be overwritten, and it must not vouch for them).
absl::Status PrepareStepDir(Communicator& comm, const std::string& directory, int64_t step);

// Creates or truncates `path`, writes the segments, fsyncs: the shard's size and XXH3.
absl::StatusOr<FileDigest> WriteShard(const std::string& path,
                                      const std::vector<Segment>& segments);

// The node-local tier's flush: copies the shard `from` to `to` (fsynced), verifying that what
// it read is what was written there (`expected`), else DataLoss. `chunk` is the copy buffer.
absl::Status CopyShard(const std::string& from, const std::string& to, const FileDigest& expected,
                       std::vector<char>& chunk);

// Collective. Every rank passes its shard layout and what writing its shard gave; rank 0
// checks them against each other and commits the manifest. Every rank returns the same status;
// on rank 0 the value is the bytes committed (shards and manifest), elsewhere 0.
absl::StatusOr<uint64_t> CommitStep(Communicator& comm, const std::string& directory, int64_t step,
                                    const std::vector<ItemEntry>& layout,
                                    const absl::StatusOr<FileDigest>& shard);

// Rank 0, after `committed_step` committed: keeps it and the keep_last - 1 newest older
// committed checkpoints, deletes other older directories. Problems are logged, not returned.
void ApplyRetention(const std::string& directory, int keep_last, int64_t committed_step);

// After `keep` committed: removes this rank's node-local shards of every other step, and their
// directories once empty (other ranks on the node share them). Problems are logged.
void PruneLocal(const std::string& local_directory, int rank, int64_t keep);
// After `step` failed: removes this rank's node-local shard of it, if there is one.
void RemoveLocalShard(const std::string& local_directory, int64_t step, int rank);

}  // namespace drocc::runtime::checkpoint
