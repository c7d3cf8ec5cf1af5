#pragma once

// The manifest: the one file whose atomic appearance commits a checkpoint. It lists every
// shard (with its size and XXH3-64) and where each registered item's bytes are. Its own body
// is checksummed too, so a flipped byte in the manifest is caught like one in a shard.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace drocc::runtime::checkpoint {

inline constexpr char kManifestName[] = "MANIFEST.json";
inline constexpr int kManifestVersion = 1;

enum class ItemKind { kReplicated, kDistributed, kCallback };
const char* ItemKindName(ItemKind kind);

struct ShardEntry {
  int rank = 0;
  std::string file;  // relative to the checkpoint directory
  uint64_t bytes = 0;
  uint64_t xxh3 = 0;
  bool operator==(const ShardEntry&) const = default;
};

// Where one rank's part of an item lives. For distributed items `offset`/`count` are in
// elements of the global array; for the others offset is 0 and count the number of bytes.
struct SliceEntry {
  int rank = 0;
  uint64_t offset = 0;
  uint64_t count = 0;
  uint64_t file_offset = 0;  // in shard-<rank>.bin
  uint64_t bytes = 0;
  bool operator==(const SliceEntry&) const = default;
};

struct ItemEntry {
  std::string name;
  ItemKind kind = ItemKind::kReplicated;
  uint64_t element_size = 1;
  uint64_t global_count = 0;  // elements (distributed) or bytes (replicated); 0 for callbacks
  std::vector<SliceEntry> slices;
  bool operator==(const ItemEntry&) const = default;
};

struct Manifest {
  int64_t step = 0;
  int world_size = 1;
  std::vector<ShardEntry> shards;  // one per rank, in rank order
  std::vector<ItemEntry> items;    // in registration order
  bool operator==(const Manifest&) const = default;
};

std::string EncodeManifest(const Manifest& manifest);
// Fails (DataLoss) on anything but a well-formed manifest whose body checksum matches.
absl::StatusOr<Manifest> DecodeManifest(std::string_view text);

}  // namespace drocc::runtime::checkpoint
