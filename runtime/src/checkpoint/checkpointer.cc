// Checkpointer: creation, registration, Save (the commit protocol) and retention.

#include <algorithm>
#include <chrono>
#include <optional>
#include <utility>

#include <nlohmann/json.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/status.h"
#include "drocc/runtime/checkpoint.h"
#include "runtime/src/checkpoint/item.h"
#include "runtime/src/checkpoint/manifest.h"
#include "runtime/src/checkpoint/posix_io.h"
#include "runtime/src/checkpoint/protocol.h"

namespace drocc::runtime {

using checkpoint::Agree;
using checkpoint::CheckTiling;
using checkpoint::ItemEntry;
using checkpoint::ItemKind;
using checkpoint::Log;
using checkpoint::Manifest;
using checkpoint::ParseDirName;
using checkpoint::ShardEntry;
using checkpoint::ShardName;
using checkpoint::SliceEntry;
using nlohmann::json;

std::string CheckpointDirName(int64_t step) { return absl::StrFormat("ckpt-%012d", step); }

Checkpointer::Checkpointer(CheckpointOptions options, Communicator* comm)
    : options_(std::move(options)), comm_(comm) {}

Checkpointer::~Checkpointer() = default;

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
  while (options.directory.size() > 1 && options.directory.back() == '/') {
    options.directory.pop_back();
  }
  if (options.keep_last < 0) {
    return absl::InvalidArgumentError("CheckpointOptions.keep_last must be >= 0 (0 keeps all)");
  }
  if (options.async || options.async_buffer_bytes != 0 ||
      options.when_busy != CheckpointOptions::WhenBusy::kWait ||
      !options.node_local_directory.empty() || options.handle_signals || options.report_to_daemon) {
    return absl::UnimplementedError(
        "asynchronous saves, the node-local tier, signal handling and reporting to droccd are "
        "not implemented yet; leave those CheckpointOptions at their defaults");
  }
  return std::unique_ptr<Checkpointer>(new Checkpointer(std::move(options), comm));
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

absl::Status Checkpointer::Wait() { return absl::OkStatus(); }

// ---- Save -------------------------------------------------------------------------------

namespace {

// What one rank tells rank 0 after writing its shard.
json ShardReport(const absl::StatusOr<json>& written) {
  if (!written.ok()) {
    return {{"ok", false},
            {"code", static_cast<int>(written.status().code())},
            {"error", std::string(written.status().message())}};
  }
  return *written;
}

}  // namespace

absl::Status Checkpointer::Save(int64_t step) {
  Communicator& comm = *comm_;
  const auto started = std::chrono::steady_clock::now();
  // Agree on the step first: a rank returning early alone would leave the others waiting.
  const int64_t mine = std::max<int64_t>(step, -1);
  const int64_t max_step = -comm.AllReduceMin(-mine);
  const int64_t min_step = comm.AllReduceMin(mine);
  if (min_step != max_step) {
    return absl::InvalidArgumentError(
        absl::StrCat("ranks passed different steps to Save (this rank: ", step,
                     "); call Save with the same step on every rank"));
  }
  if (step < 0) return absl::InvalidArgumentError(absl::StrCat("step ", step, " is negative"));
  const std::string dir = absl::StrCat(options_.directory, "/", CheckpointDirName(step));
  const std::string manifest_path = absl::StrCat(dir, "/", checkpoint::kManifestName);

  // 1. Rank 0 creates the directory. If this step was saved before, its manifest goes first:
  //    the shards are about to be overwritten, and the old manifest must not vouch for them.
  absl::Status prepared;
  if (comm.Rank() == 0) {
    prepared = [&]() -> absl::Status {
      RETURN_IF_ERROR(checkpoint::MakeDirs(dir));
      if (checkpoint::Exists(manifest_path)) {
        RETURN_IF_ERROR(checkpoint::RemoveFile(manifest_path));
        RETURN_IF_ERROR(checkpoint::FsyncDir(dir));
      }
      return checkpoint::FsyncDir(options_.directory);
    }();
  }
  RETURN_IF_ERROR(Agree(comm, prepared));

  // 2. Every rank writes, checksums and fsyncs its shard.
  absl::StatusOr<json> written = [&]() -> absl::StatusOr<json> {
    checkpoint::ShardWriter writer;
    RETURN_IF_ERROR(writer.Open(absl::StrCat(dir, "/", ShardName(comm.Rank()))));
    json items = json::array();
    for (const Item& item : items_) {
      json entry = {{"name", item.name},
                    {"kind", std::string(checkpoint::ItemKindName(item.kind))},
                    {"element_size", item.element_size},
                    {"global_count", item.global_count}};
      const uint64_t file_offset = writer.bytes();
      uint64_t bytes = 0;
      switch (item.kind) {
        case ItemKind::kReplicated:
          if (comm.Rank() == 0) {
            bytes = item.global_count;
            RETURN_IF_ERROR(writer.Append(item.data, bytes));
          }
          entry["slice"] = {{"offset", 0}, {"count", bytes}};
          break;
        case ItemKind::kDistributed:
          bytes = item.count * item.element_size;
          RETURN_IF_ERROR(writer.Append(item.data, bytes));
          entry["slice"] = {{"offset", item.offset}, {"count", item.count}};
          break;
        case ItemKind::kCallback: {
          absl::StatusOr<std::string> blob = item.save();
          if (!blob.ok()) {
            return absl::Status(blob.status().code(),
                                absl::StrCat("save callback \"", item.name,
                                             "\" failed: ", blob.status().message()));
          }
          bytes = blob->size();
          RETURN_IF_ERROR(writer.Append(blob->data(), bytes));
          entry["slice"] = {{"offset", 0}, {"count", bytes}};
          break;
        }
      }
      entry["slice"]["file_offset"] = file_offset;
      entry["slice"]["bytes"] = bytes;
      items.push_back(std::move(entry));
    }
    RETURN_IF_ERROR(writer.Finish());
    return json{{"ok", true}, {"bytes", writer.bytes()}, {"xxh3", writer.xxh3()}, {"items", items}};
  }();
  const std::vector<std::string> reports = comm.Gather(ShardReport(written).dump(), 0);

  // 3. Rank 0 checks the reports, then commits: the manifest appears atomically, after every
  //    shard it names is durable.
  absl::Status committed;
  uint64_t committed_bytes = 0;
  if (comm.Rank() == 0) {
    committed = [&]() -> absl::Status {
      Manifest m{.step = step, .world_size = comm.Size()};
      std::vector<json> parsed;
      for (int r = 0; r < comm.Size(); ++r) {
        json rep = json::parse(reports[r]);
        if (!rep.at("ok").get<bool>()) {
          std::string msg = rep.at("error").get<std::string>();
          if (comm.Size() > 1) msg = absl::StrCat("rank ", r, ": ", msg);
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
                    .kind = items_[i].kind,
                    .element_size = it.at("element_size").get<uint64_t>(),
                    .global_count = it.at("global_count").get<uint64_t>()};
        std::vector<std::pair<uint64_t, uint64_t>> tiles;
        for (int r = 0; r < comm.Size(); ++r) {
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
      // The shards' directory entries must be durable before the manifest that names them.
      RETURN_IF_ERROR(checkpoint::FsyncDir(dir));
      const std::string encoded = checkpoint::EncodeManifest(m);
      committed_bytes = encoded.size();
      for (const ShardEntry& sh : m.shards) committed_bytes += sh.bytes;
      return checkpoint::WriteFileAtomically(manifest_path, encoded);
    }();
  }
  committed = Agree(comm, committed);
  if (!committed.ok()) {
    return absl::Status(committed.code(), absl::StrCat("checkpoint of step ", step,
                                                       " not written: ", committed.message()));
  }
  if (comm.Rank() == 0) {
    ApplyRetention(step);
    if (options_.on_commit) {
      options_.on_commit(
          {.step = step,
           .bytes = committed_bytes,
           .seconds =
               std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(),
           .path = dir,
           .ranks = comm.Size()});
    }
  }
  return absl::OkStatus();
}

void Checkpointer::ApplyRetention(int64_t committed_step) {
  if (options_.keep_last == 0) return;
  absl::StatusOr<std::vector<std::string>> names = checkpoint::ListDir(options_.directory);
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
    const std::string dir = absl::StrCat(options_.directory, "/", CheckpointDirName(s));
    const std::string manifest = absl::StrCat(dir, "/", checkpoint::kManifestName);
    if (kept < options_.keep_last && checkpoint::Exists(manifest)) {
      ++kept;
      continue;
    }
    // Uncommit first, so a half-deleted checkpoint never looks complete.
    absl::Status st = checkpoint::RemoveFile(manifest);
    if (st.ok()) st = checkpoint::FsyncDir(dir);
    if (st.ok()) st = checkpoint::RemoveFlatDir(dir);
    if (!st.ok()) Log(absl::StrCat("retention: cannot delete ", dir, ": ", st.message()));
  }
  if (absl::Status st = checkpoint::FsyncDir(options_.directory); !st.ok()) {
    Log(absl::StrCat("retention: ", st.message()));
  }
}

}  // namespace drocc::runtime
