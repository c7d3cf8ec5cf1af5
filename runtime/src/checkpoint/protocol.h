#pragma once

// Pieces of the checkpoint protocol shared by Save (checkpointer.cc) and Restore (restore.cc):
// names on disk, agreement between ranks, and the tiling rule of distributed arrays.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "drocc/runtime/communicator.h"

namespace drocc::runtime::checkpoint {

// "shard-000003.bin"
std::string ShardName(int rank);
// The step of a "ckpt-<step>" directory name; nullopt for anything else.
std::optional<int64_t> ParseDirName(std::string_view name);
// One line on stderr, prefixed "drocc-runtime: ".
void Log(std::string_view message);
// Collective. Every rank passes its own status; every rank gets back the status of the lowest
// failing rank (OK if none failed), so all ranks take the same branch afterwards.
absl::Status Agree(Communicator& comm, const absl::Status& mine);
// The (offset, count) slices of a distributed array must cover [0, global_count) exactly once;
// otherwise a status with `code` saying how they fail to.
absl::Status CheckTiling(const std::string& name, uint64_t global_count,
                         std::vector<std::pair<uint64_t, uint64_t>> slices, absl::StatusCode code);

}  // namespace drocc::runtime::checkpoint
