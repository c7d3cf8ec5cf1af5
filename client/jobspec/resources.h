#pragma once

// Parsers for sbatch's resource counts: -N, -n/-c/--ntasks-per-node, --gres, --gpus-per-node,
// --priority. Each returns InvalidArgument with one line naming `option` (e.g. "-N/--nodes")
// when given.

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace drocc::client {

struct NodeRange {
  uint32_t min = 0;
  uint32_t max = 0;
};

// "N" -> {N, N}; "N-M" -> {N, M}. N >= 1 and N <= M. (Slurm's node-count suffixes and size
// lists, e.g. "1k" or "2,4,8", are not supported.)
absl::StatusOr<NodeRange> ParseNodeRange(std::string_view text, std::string_view option = "");

// A whole number >= 1 that fits in 32 bits, e.g. for -n, -c, --ntasks-per-node. `what` names
// the quantity in errors ("number of tasks").
absl::StatusOr<uint32_t> ParsePositiveCount(std::string_view text, std::string_view what,
                                            std::string_view option = "");

// --gpus-per-node: "N" or "TYPE:N" (N may be 0, meaning no GPUs).
struct GpuRequest {
  std::string type;  // "" = any
  uint32_t count = 0;
};
absl::StatusOr<GpuRequest> ParseGpusPerNode(std::string_view text, std::string_view option = "");

// --gres: a comma-separated list of NAME[:TYPE][:COUNT] (COUNT >= 1, default 1; as in Slurm, a
// numeric last field is the count), or "none". The list is validated and kept as given.
struct GresRequest {
  std::string gres;   // as given, "" for "none"
  uint32_t gpus = 0;  // sum of the counts of the "gpu" entries
};
absl::StatusOr<GresRequest> ParseGres(std::string_view text, std::string_view option = "");

// --priority: a whole number that fits in int32, optionally negative. (Slurm's "TOP" is an
// operator's tool and is refused.)
absl::StatusOr<int32_t> ParsePriority(std::string_view text, std::string_view option = "");

}  // namespace drocc::client
