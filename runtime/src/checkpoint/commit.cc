#include "runtime/src/checkpoint/commit.h"

#include <algorithm>
#include <optional>
#include <utility>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status.h"
#include "drocc/runtime/checkpoint.h"
#include "runtime/src/checkpoint/protocol.h"

namespace drocc::runtime::checkpoint {
namespace {

using nlohmann::json;

// What one rank tells rank 0 after writing its shard.
std::string ShardReport(const std::vector<ItemEntry>& layout,
                        const absl::StatusOr<FileDigest>& shard) {
  if (!shard.ok()) {
    return json{{"ok", false},
                {"code", static_cast<int>(shard.status().code())},
                {"error", std::string(shard.status().message())}}
        .dump();
  }
  json items = json::array();
  for (const ItemEntry& e : layout) {
    const SliceEntry& s = e.slices.at(0);
    items.push_back({{"name", e.name},
                     {"kind", std::string(ItemKindName(e.kind))},
                     {"element_size", e.element_size},
                     {"global_count", e.global_count},
                     {"slice",
                      {{"offset", s.offset},
                       {"count", s.count},
                       {"file_offset", s.file_offset},
                       {"bytes", s.bytes}}}});
  }
  return json{{"ok", true}, {"bytes", shard->bytes}, {"xxh3", shard->xxh3}, {"items", items}}
      .dump();
}

// Rank 0: the manifest the ranks' reports describe, or why they do not make a checkpoint.
absl::StatusOr<Manifest> ManifestFromReports(int64_t step, const std::vector<ItemEntry>& layout,
                                             const std::vector<std::string>& reports) {
  const int size = static_cast<int>(reports.size());
  Manifest m{.step = step, .world_size = size};
  std::vector<json> parsed;
  for (int r = 0; r < size; ++r) {
    json rep = json::parse(reports[r]);
    if (!rep.at("ok").get<bool>()) {
      std::string msg = rep.at("error").get<std::string>();
      if (size > 1) msg = absl::StrCat("rank ", r, ": ", msg);
      return absl::Status(static_cast<absl::StatusCode>(rep.at("code").get<int>()), msg);
    }
    m.shards.push_back({.rank = r,
                        .file = ShardName(r),
                        .bytes = rep.at("bytes").get<uint64_t>(),
                        .xxh3 = rep.at("xxh3").get<uint64_t>()});
    parsed.push_back(std::move(rep));
  }
  const json& first = parsed[0].at("items");
  for (size_t i = 0; i < first.size(); ++i) {
    const json& it = first[i];
    ItemEntry e{.name = it.at("name").get<std::string>(),
                .kind = layout[i].kind,
                .element_size = it.at("element_size").get<uint64_t>(),
                .global_count = it.at("global_count").get<uint64_t>()};
    std::vector<std::pair<uint64_t, uint64_t>> tiles;
    for (int r = 0; r < size; ++r) {
      const json& items = parsed[r].at("items");
      if (items.size() != first.size() || items[i].at("name") != it.at("name") ||
          items[i].at("kind") != it.at("kind") ||
          items[i].at("element_size") != it.at("element_size") ||
          items[i].at("global_count") != it.at("global_count")) {
        return absl::FailedPreconditionError(absl::StrFormat(
            "rank %d registered different checkpoint state than rank 0 (item %d, \"%s\"); "
            "register the same names, kinds and global sizes in the same order on every "
            "rank",
            r, i, e.name));
      }
      const json& s = items[i].at("slice");
      SliceEntry slice{.rank = r,
                       .offset = s.at("offset").get<uint64_t>(),
                       .count = s.at("count").get<uint64_t>(),
                       .file_offset = s.at("file_offset").get<uint64_t>(),
                       .bytes = s.at("bytes").get<uint64_t>()};
      if (e.kind == ItemKind::kReplicated && r != 0) continue;
      tiles.emplace_back(slice.offset, slice.count);
      e.slices.push_back(slice);
    }
    if (e.kind == ItemKind::kDistributed) {
      RETURN_IF_ERROR(CheckTiling(e.name, e.global_count, std::move(tiles),
                                  absl::StatusCode::kInvalidArgument));
    }
    m.items.push_back(std::move(e));
  }
  return m;
}

}  // namespace

std::string StepDir(const std::string& directory, int64_t step) {
  return absl::StrCat(directory, "/", CheckpointDirName(step));
}

std::string ShardPath(const std::string& directory, int64_t step, int rank) {
  return absl::StrCat(StepDir(directory, step), "/", ShardName(rank));
}

absl::Status NotWritten(int64_t step, const absl::Status& status) {
  return absl::Status(
      status.code(), absl::StrCat("checkpoint of step ", step, " not written: ", status.message()));
}

absl::Status PrepareStepDir(Communicator& comm, const std::string& directory, int64_t step) {
  absl::Status prepared;
  if (comm.Rank() == 0) {
    const std::string dir = StepDir(directory, step);
    const std::string manifest_path = absl::StrCat(dir, "/", kManifestName);
    prepared = [&]() -> absl::Status {
      RETURN_IF_ERROR(MakeDirs(dir));
      if (Exists(manifest_path)) {
        RETURN_IF_ERROR(RemoveFile(manifest_path));
        RETURN_IF_ERROR(FsyncDir(dir));
      }
      return FsyncDir(directory);
    }();
  }
  return Agree(comm, prepared);
}

absl::StatusOr<FileDigest> WriteShard(const std::string& path,
                                      const std::vector<Segment>& segments) {
  ShardWriter writer;
  RETURN_IF_ERROR(writer.Open(path));
  for (const Segment& s : segments) RETURN_IF_ERROR(writer.Append(s.data, s.bytes));
  RETURN_IF_ERROR(writer.Finish());
  return FileDigest{.bytes = writer.bytes(), .xxh3 = writer.xxh3()};
}

absl::Status CopyShard(const std::string& from, const std::string& to, const FileDigest& expected,
                       std::vector<char>& chunk) {
  absl::StatusOr<FileDigest> copied = CopyFile(from, to, chunk);
  if (!copied.ok()) return copied.status();
  if (copied->bytes != expected.bytes || copied->xxh3 != expected.xxh3) {
    return absl::DataLossError(absl::StrFormat(
        "the node-local copy %s changed after it was written (%d bytes, XXH3 %016x; written: "
        "%d bytes, XXH3 %016x); check the node-local storage",
        from, copied->bytes, copied->xxh3, expected.bytes, expected.xxh3));
  }
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> CommitStep(Communicator& comm, const std::string& directory, int64_t step,
                                    const std::vector<ItemEntry>& layout,
                                    const absl::StatusOr<FileDigest>& shard) {
  const std::vector<std::string> reports = comm.Gather(ShardReport(layout, shard), 0);
  // Rank 0 checks the reports, then commits: the manifest appears atomically, after every
  // shard it names is durable.
  absl::Status committed;
  uint64_t committed_bytes = 0;
  if (comm.Rank() == 0) {
    committed = [&]() -> absl::Status {
      ASSIGN_OR_RETURN(Manifest m, ManifestFromReports(step, layout, reports));
      const std::string dir = StepDir(directory, step);
      // The shards' directory entries must be durable before the manifest that names them.
      RETURN_IF_ERROR(FsyncDir(dir));
      const std::string encoded = EncodeManifest(m);
      committed_bytes = encoded.size();
      for (const ShardEntry& sh : m.shards) committed_bytes += sh.bytes;
      return WriteFileAtomically(absl::StrCat(dir, "/", kManifestName), encoded);
    }();
  }
  RETURN_IF_ERROR(Agree(comm, committed));
  return committed_bytes;
}

void ApplyRetention(const std::string& directory, int keep_last, int64_t committed_step) {
  if (keep_last == 0) return;
  absl::StatusOr<std::vector<std::string>> names = ListDir(directory);
  if (!names.ok()) {
    Log(absl::StrCat("retention skipped: ", names.status().message()));
    return;
  }
  std::vector<int64_t> older;
  for (const std::string& n : *names) {
    std::optional<int64_t> s = ParseDirName(n);
    if (s && *s < committed_step) older.push_back(*s);
  }
  std::sort(older.rbegin(), older.rend());
  int kept = 1;  // the one just committed
  for (int64_t s : older) {
    const std::string dir = StepDir(directory, s);
    const std::string manifest = absl::StrCat(dir, "/", kManifestName);
    if (kept < keep_last && Exists(manifest)) {
      ++kept;
      continue;
    }
    // Uncommit first, so a half-deleted checkpoint never looks complete.
    absl::Status st = RemoveFile(manifest);
    if (st.ok()) st = FsyncDir(dir);
    if (st.ok()) st = RemoveFlatDir(dir);
    if (!st.ok()) Log(absl::StrCat("retention: cannot delete ", dir, ": ", st.message()));
  }
  if (absl::Status st = FsyncDir(directory); !st.ok()) {
    Log(absl::StrCat("retention: ", st.message()));
  }
}

void PruneLocal(const std::string& local_directory, int rank, int64_t keep) {
  absl::StatusOr<std::vector<std::string>> names = ListDir(local_directory);
  if (!names.ok()) {
    if (!absl::IsNotFound(names.status())) {
      Log(absl::StrCat("node-local tier: ", names.status().message()));
    }
    return;
  }
  for (const std::string& n : *names) {
    std::optional<int64_t> s = ParseDirName(n);
    if (s && *s != keep) RemoveLocalShard(local_directory, *s, rank);
  }
}

void RemoveLocalShard(const std::string& local_directory, int64_t step, int rank) {
  const std::string path = ShardPath(local_directory, step, rank);
  if (!Exists(path)) return;
  absl::Status st = RemoveFile(path);
  if (st.ok()) st = RemoveDirIfEmpty(StepDir(local_directory, step));
  if (!st.ok()) Log(absl::StrCat("node-local tier: ", st.message()));
}

}  // namespace drocc::runtime::checkpoint
