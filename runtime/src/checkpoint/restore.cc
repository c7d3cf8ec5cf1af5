// Checkpointer::Restore: pick the newest checkpoint that verifies, and load it.

#include <algorithm>
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
#include "runtime/src/checkpoint/background.h"
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

absl::Status Checkpointer::CheckCompatible(const Manifest& m) const {
  const std::string where = absl::StrCat("checkpoint of step ", m.step);
  for (int r = 0; r < m.world_size; ++r) {
    if (m.shards[r].file != ShardName(r)) {
      return absl::DataLossError(
          absl::StrCat("manifest names an unexpected shard file \"", m.shards[r].file, "\""));
    }
  }
  std::vector<std::string> saved, registered;
  for (const ItemEntry& e : m.items) saved.push_back(e.name);
  for (const Item& i : items_) registered.push_back(i.name);
  if (saved != registered) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s holds items [%s] but [%s] are registered; register the same state, in the same "
        "order, as the program that saved it (or use a new checkpoint directory)",
        where, absl::StrJoin(saved, ", "), absl::StrJoin(registered, ", ")));
  }
  for (size_t i = 0; i < items_.size(); ++i) {
    const Item& item = items_[i];
    const ItemEntry& e = m.items[i];
    if (e.kind != item.kind || e.element_size != item.element_size ||
        e.global_count != item.global_count) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "%s: item \"%s\" was saved as %s of %d x %d bytes but is registered as %s of %d x %d "
          "bytes; register it as it was saved (or use a new checkpoint directory)",
          where, item.name, checkpoint::ItemKindName(e.kind), e.global_count, e.element_size,
          checkpoint::ItemKindName(item.kind), item.global_count, item.element_size));
    }
    if (item.kind == ItemKind::kCallback && m.world_size != comm_->Size()) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "%s was written by %d ranks and holds per-rank callback state \"%s\", which cannot "
          "be restored on %d ranks; restart with %d ranks, or keep that state in a "
          "distributed array",
          where, m.world_size, item.name, comm_->Size(), m.world_size));
    }
    // The slices must point inside their shards, and describe the item completely.
    std::vector<std::pair<uint64_t, uint64_t>> tiles;
    for (const SliceEntry& s : e.slices) {
      if (s.rank < 0 || s.rank >= m.world_size || s.file_offset > m.shards[s.rank].bytes ||
          s.bytes > m.shards[s.rank].bytes - s.file_offset ||
          (e.kind == ItemKind::kDistributed && s.bytes != s.count * e.element_size)) {
        return absl::DataLossError(
            absl::StrCat("manifest entry of item \"", e.name, "\" is inconsistent"));
      }
      tiles.emplace_back(s.offset, s.count);
    }
    if (e.kind == ItemKind::kDistributed) {
      RETURN_IF_ERROR(
          CheckTiling(e.name, e.global_count, std::move(tiles), absl::StatusCode::kDataLoss));
    } else if (e.kind == ItemKind::kReplicated &&
               (e.slices.size() != 1 || e.slices[0].bytes != e.global_count)) {
      return absl::DataLossError(
          absl::StrCat("manifest entry of \"", e.name, "\" is inconsistent"));
    } else if (e.kind == ItemKind::kCallback &&
               e.slices.size() != static_cast<size_t>(m.world_size)) {
      return absl::DataLossError(
          absl::StrCat("manifest entry of \"", e.name, "\" is inconsistent"));
    }
  }
  return absl::OkStatus();
}

absl::Status Checkpointer::VerifyShards(const Manifest& m, const std::string& dir) const {
  // Shards are verified round-robin: each is read in full once, by one rank.
  for (int r = comm_->Rank(); r < m.world_size; r += comm_->Size()) {
    const ShardEntry& shard = m.shards[r];
    const std::string path = absl::StrCat(dir, "/", shard.file);
    absl::StatusOr<checkpoint::FileDigest> d = checkpoint::DigestFile(path);
    if (absl::IsNotFound(d.status())) {
      return absl::DataLossError(absl::StrCat(shard.file, " is missing"));
    }
    if (!d.ok()) return d.status();
    if (d->bytes != shard.bytes) {
      return absl::DataLossError(
          absl::StrFormat("%s has %d bytes, the manifest says %d "
                          "(truncated or overwritten)",
                          shard.file, d->bytes, shard.bytes));
    }
    if (d->xxh3 != shard.xxh3) {
      return absl::DataLossError(
          absl::StrFormat("%s: checksum mismatch (XXH3 %016x, manifest %016x): the data is "
                          "corrupt",
                          shard.file, d->xxh3, shard.xxh3));
    }
  }
  return absl::OkStatus();
}

absl::Status Checkpointer::Load(const Manifest& m, const std::string& dir) {
  auto shard_path = [&](int rank) { return absl::StrCat(dir, "/", m.shards[rank].file); };
  for (size_t i = 0; i < items_.size(); ++i) {
    Item& item = items_[i];
    const ItemEntry& e = m.items[i];
    switch (item.kind) {
      case ItemKind::kReplicated: {
        const SliceEntry& s = e.slices[0];
        RETURN_IF_ERROR(checkpoint::ReadAt(shard_path(s.rank), s.file_offset, item.data, s.bytes));
        break;
      }
      case ItemKind::kDistributed:
        // Read the part of every old slice that overlaps this rank's new slice.
        for (const SliceEntry& s : e.slices) {
          const uint64_t lo = std::max(item.offset, s.offset);
          const uint64_t hi = std::min(item.offset + item.count, s.offset + s.count);
          if (lo >= hi) continue;
          RETURN_IF_ERROR(checkpoint::ReadAt(
              shard_path(s.rank), s.file_offset + (lo - s.offset) * e.element_size,
              item.data + (lo - item.offset) * e.element_size, (hi - lo) * e.element_size));
        }
        break;
      case ItemKind::kCallback: {
        const SliceEntry& s = e.slices[comm_->Rank()];
        std::string blob(s.bytes, '\0');
        RETURN_IF_ERROR(
            checkpoint::ReadAt(shard_path(s.rank), s.file_offset, blob.data(), s.bytes));
        if (absl::Status st = item.load(blob); !st.ok()) {
          return absl::Status(
              st.code(), absl::StrCat("load callback \"", item.name, "\" failed: ", st.message()));
        }
        break;
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<RestoreResult> Checkpointer::Restore() {
  Communicator& comm = *comm_;
  // A save in flight would commit (and apply retention) while we look; its outcome stays for
  // the next Wait or Save.
  if (background_ != nullptr) background_->worker.WaitIdle();
  // Rank 0 lists the candidates, newest first, so every rank tries the same ones.
  std::string candidates;
  absl::Status listed;
  if (comm.Rank() == 0) {
    absl::StatusOr<std::vector<std::string>> names = checkpoint::ListDir(options_.directory);
    if (names.ok()) {
      std::vector<int64_t> steps;
      for (const std::string& n : *names) {
        if (std::optional<int64_t> s = ParseDirName(n)) steps.push_back(*s);
      }
      std::sort(steps.rbegin(), steps.rend());
      candidates = absl::StrJoin(steps, ",");
    } else if (!absl::IsNotFound(names.status())) {
      listed = names.status();
    }
  }
  RETURN_IF_ERROR(Agree(comm, listed));
  comm.Broadcast(candidates, 0);

  RestoreResult result;
  for (absl::string_view text : absl::StrSplit(candidates, ',', absl::SkipEmpty())) {
    int64_t step = 0;
    if (!absl::SimpleAtoi(text, &step)) return absl::InternalError("bad candidate list");
    const std::string dir = absl::StrCat(options_.directory, "/", CheckpointDirName(step));
    auto pass_over = [&](const absl::Status& why) {
      std::string line = absl::StrCat(CheckpointDirName(step), ": ", why.message());
      if (comm.Rank() == 0) {
        Log(absl::StrCat("passing over checkpoint ", dir, ": ", why.message(),
                         "; trying an older one"));
      }
      result.skipped.push_back(std::move(line));
    };

    // The manifest, read once by rank 0 and sent to all.
    std::string manifest_text;
    absl::Status read;
    if (comm.Rank() == 0) {
      absl::StatusOr<std::string> t =
          checkpoint::ReadFile(absl::StrCat(dir, "/", checkpoint::kManifestName));
      if (t.ok()) {
        manifest_text = *std::move(t);
      } else if (absl::IsNotFound(t.status())) {
        read =
            absl::DataLossError("no MANIFEST.json: the save was interrupted before it committed");
      } else {
        read = t.status();
      }
    }
    if (absl::Status st = Agree(comm, read); !st.ok()) {
      pass_over(st);
      continue;
    }
    comm.Broadcast(manifest_text, 0);
    absl::StatusOr<Manifest> m = checkpoint::DecodeManifest(manifest_text);
    if (m.ok() && m->step != step) {
      m = absl::DataLossError(absl::StrCat("the manifest is of step ", m->step));
    }
    if (!m.ok()) {
      pass_over(m.status());
      continue;
    }
    absl::Status compatible = Agree(comm, CheckCompatible(*m));
    if (!compatible.ok()) {
      if (absl::IsDataLoss(compatible)) {
        pass_over(compatible);
        continue;
      }
      return compatible;
    }
    if (absl::Status st = Agree(comm, VerifyShards(*m, dir)); !st.ok()) {
      pass_over(st);
      continue;
    }
    if (absl::Status st = Agree(comm, Load(*m, dir)); !st.ok()) {
      pass_over(st);
      continue;
    }
    result.restored = true;
    result.step = step;
    if (comm.Rank() == 0 && !result.skipped.empty()) {
      Log(absl::StrCat("restored checkpoint ", dir, " after passing over ", result.skipped.size(),
                       " newer one(s)"));
    }
    return result;
  }
  if (comm.Rank() == 0 && !result.skipped.empty()) {
    Log(absl::StrCat("no complete and verified checkpoint in ", options_.directory,
                     "; starting from scratch"));
  }
  return result;
}

}  // namespace drocc::runtime
