// StageIn (drocc/runtime/staging.h, docs/staging.md "Stage-in"): leader 0 lists SRC; each
// leader finds what its DST lacks; the union is split among the leaders by bytes, read once
// and exchanged (transfer.h); mismatches are sent again; then symlinks, directory modes and
// mtimes, and the manifest.

#include <algorithm>
#include <cstring>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status.h"
#include "drocc/runtime/staging.h"
#include "runtime/src/checkpoint/protocol.h"
#include "runtime/src/staging/checksum.h"
#include "runtime/src/staging/destination.h"
#include "runtime/src/staging/manifest.h"
#include "runtime/src/staging/session.h"
#include "runtime/src/staging/transfer.h"
#include "runtime/src/staging/tree.h"
#include "runtime/src/staging/work.h"

namespace drocc::runtime {
namespace staging {
namespace {

// In the split among leaders a file weighs its size plus this: opening a file costs about as
// much as reading 64 KiB, so many small files spread out as well as a few large ones.
constexpr uint64_t kFileCost = uint64_t{64} << 10;
// Files named in a checksum error (the count of the others follows).
constexpr size_t kNamedFiles = 5;

using Bitmap = std::vector<uint64_t>;

Bitmap ToBitmap(const std::vector<uint8_t>& flags) {
  Bitmap bits((flags.size() + 63) / 64, 0);
  for (size_t i = 0; i < flags.size(); ++i) {
    if (flags[i]) bits[i / 64] |= uint64_t{1} << (i % 64);
  }
  return bits;
}

std::vector<uint32_t> Members(const Bitmap& bits, size_t n) {
  std::vector<uint32_t> out;
  for (size_t i = 0; i < n; ++i) {
    if (bits[i / 64] >> (i % 64) & 1) out.push_back(static_cast<uint32_t>(i));
  }
  return out;
}

std::vector<uint8_t> Flags(const std::vector<uint32_t>& members, size_t n) {
  std::vector<uint8_t> out(n, 0);
  for (uint32_t i : members) out[i] = 1;
  return out;
}

// Which leader reads which file: contiguous runs of the list, balanced by weight; each file
// goes to the leader whose share of the total weight contains the file's middle.
std::vector<std::vector<uint32_t>> SplitByBytes(const Tree& tree,
                                                const std::vector<uint32_t>& files, int leaders) {
  unsigned __int128 total = 0;
  for (uint32_t i : files) total += tree[i].size + kFileCost;
  std::vector<std::vector<uint32_t>> shares(leaders);
  unsigned __int128 before = 0;
  for (uint32_t i : files) {
    const uint64_t weight = tree[i].size + kFileCost;
    const unsigned __int128 middle = before + weight / 2;
    const auto leader =
        static_cast<int>(std::min<unsigned __int128>(leaders - 1, middle * leaders / total));
    shares[leader].push_back(i);
    before += weight;
  }
  return shares;
}

// Which regular files of `tree` this node's DST does not hold complete: not in the manifest
// with the source's size and mtime, or not at DST with them, or (verify_existing) not with the
// manifest's checksum. A complete file whose mode differs is given the source's mode here.
absl::StatusOr<std::vector<uint8_t>> FindNeeded(FileSystem& fs, const Tree& tree,
                                                const std::string& dst,
                                                const ManifestRecords& records,
                                                const StageOptions& options) {
  std::vector<uint8_t> need(tree.size(), 0);
  RETURN_IF_ERROR(ParallelFor(tree.size(), options.io_threads, [&](size_t i) -> absl::Status {
    const Entry& e = tree[i];
    if (e.type != FileType::kRegular) return absl::OkStatus();
    const auto rec = records.find(e.path);
    if (rec == records.end() || rec->second.size != e.size || rec->second.mtime_ns != e.mtime_ns) {
      need[i] = 1;
      return absl::OkStatus();
    }
    const std::string path = JoinPath(dst, e.path);
    absl::StatusOr<FileInfo> there = fs.Lstat(path);
    if (absl::IsNotFound(there.status())) {
      need[i] = 1;
      return absl::OkStatus();
    }
    if (!there.ok()) return there.status();
    if (there->type != FileType::kRegular || there->size != e.size ||
        there->mtime_ns != e.mtime_ns) {
      need[i] = 1;
      return absl::OkStatus();
    }
    if (options.verify_existing) {
      ASSIGN_OR_RETURN(const bool match,
                       CheckCopy(fs, path, e.size, rec->second.xxh3, std::nullopt));
      if (!match) {
        need[i] = 1;
        return absl::OkStatus();
      }
    }
    if (there->mode != e.mode) return fs.Chmod(path, e.mode);
    return absl::OkStatus();
  }));
  return need;
}

// The symlinks of the tree, each made beside its place (in the partial directory) and renamed
// onto it, so that an existing different one is replaced at once. One already right is kept.
absl::Status PlaceSymlinks(FileSystem& fs, const Tree& tree, const DstPaths& paths, int threads) {
  return ParallelFor(tree.size(), threads, [&](size_t i) -> absl::Status {
    const Entry& e = tree[i];
    if (e.type != FileType::kSymlink) return absl::OkStatus();
    const std::string place = JoinPath(paths.root, e.path);
    absl::StatusOr<FileInfo> there = fs.Lstat(place);
    if (there.ok() && there->type == FileType::kSymlink) {
      absl::StatusOr<std::string> target = fs.ReadLink(place);
      if (target.ok() && *target == e.target) {
        return there->mtime_ns == e.mtime_ns ? absl::OkStatus() : fs.SetMtime(place, e.mtime_ns);
      }
    }
    const std::string made = absl::StrCat(paths.partial_dir, "/link-", i);
    RETURN_IF_ERROR(RemoveTree(fs, made));
    RETURN_IF_ERROR(fs.Symlink(e.target, made));
    RETURN_IF_ERROR(fs.SetMtime(made, e.mtime_ns));
    if (there.ok() && there->type == FileType::kDirectory) {
      RETURN_IF_ERROR(RemoveTree(fs, place));
    }
    return fs.Rename(made, place);
  });
}

// The error when some copies still do not match after every retry. Collective over the
// leaders (each says which of its copies failed); leader 0 returns it, the others PeerFailed.
absl::Status MismatchError(Session& s, const Tree& tree, const std::string& src,
                           const std::vector<uint32_t>& mine, int transfers) {
  Communicator& leaders = s.leaders();
  const std::vector<std::string> all = leaders.AllGather(
      std::string(reinterpret_cast<const char*>(mine.data()), mine.size() * sizeof(uint32_t)));
  if (leaders.Rank() != 0) return PeerFailed();
  std::map<uint32_t, std::vector<std::string>> nodes_of;  // file -> nodes whose copy failed
  for (size_t node = 0; node < all.size(); ++node) {
    for (size_t k = 0; k + sizeof(uint32_t) <= all[node].size(); k += sizeof(uint32_t)) {
      uint32_t index = 0;
      std::memcpy(&index, all[node].data() + k, sizeof index);
      nodes_of[index].push_back(s.layout().names[node]);
    }
  }
  std::vector<std::string> lines;
  for (const auto& [index, nodes] : nodes_of) {
    if (lines.size() == kNamedFiles) break;
    lines.push_back(absl::StrCat(JoinPath(src, tree[index].path), " on node",
                                 nodes.size() > 1 ? "s " : " ", absl::StrJoin(nodes, ", ")));
  }
  std::string more;
  if (nodes_of.size() > kNamedFiles) {
    more = absl::StrCat(" (and ", nodes_of.size() - kNamedFiles, " more files)");
  }
  return absl::DataLossError(absl::StrCat(
      "the copy of ", absl::StrJoin(lines, "; "), more,
      " did not match the checksum of the source after ", transfers,
      " transfers (1 + verify_retries); the data was damaged on its way or by the node's "
      "storage: check that node (its disk, dmesg), then rerun: the files already complete "
      "are kept"));
}

// What a leader does. Every phase ends with the leaders agreeing whether to go on.
absl::Status StageInOnLeader(Session& s, const std::string& src, const std::string& dst_pattern,
                             StageStats* stats) {
  FileSystem& fs = s.fs();
  Communicator& leaders = s.leaders();
  const StageOptions& options = s.options();
  const int me = leaders.Rank();
  const int nodes = leaders.Size();

  const std::string dst = ExpandNodeName(dst_pattern, s.node_name());
  RETURN_IF_ERROR(StopIfAnyFailed(leaders, CheckSeparate(src, dst)));

  // 1. Leader 0 lists SRC; every leader gets the list.
  Tree tree;
  {
    absl::Status st;
    std::string wire;
    if (me == 0) {
      absl::StatusOr<Tree> walked = WalkTree(fs, src, options.io_threads);
      if (walked.ok()) {
        tree = *std::move(walked);
        if (nodes > 1) wire = EncodeTree(tree);
      } else {
        st = walked.status();
      }
    }
    RETURN_IF_ERROR(StopIfAnyFailed(leaders, st));
    if (nodes > 1) {
      leaders.Broadcast(wire, 0);
      if (me != 0) {
        absl::StatusOr<Tree> decoded = DecodeTree(wire);
        if (decoded.ok()) tree = *std::move(decoded);
        st = decoded.status();
      }
      RETURN_IF_ERROR(StopIfAnyFailed(leaders, st));
    }
  }

  // 2. What this node's DST lacks; its directories.
  DstPaths paths;
  std::vector<uint8_t> need;
  std::unique_ptr<ManifestWriter> manifest;
  absl::Status st = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(paths, PrepareDestination(fs, dst, tree[0]));
    ASSIGN_OR_RETURN(LoadedManifest loaded, LoadManifest(fs, paths.manifest));
    if (loaded.bad_lines > 0) {
      checkpoint::Log(absl::StrCat("stage-in: node ", s.node_name(), ": ignored ", loaded.bad_lines,
                                   " damaged line(s) of ", paths.manifest,
                                   "; the files they described are copied again"));
    }
    ASSIGN_OR_RETURN(need, FindNeeded(fs, tree, paths.root, loaded.records, options));
    // The manifest lists only what is complete: drop what is about to be copied again.
    ManifestRecords complete;
    for (size_t i = 0; i < tree.size(); ++i) {
      if (tree[i].type != FileType::kRegular || need[i]) continue;
      const auto rec = loaded.records.find(tree[i].path);
      if (rec != loaded.records.end()) complete.insert(*rec);
    }
    loaded.records.clear();
    ASSIGN_OR_RETURN(manifest, ManifestWriter::Open(fs, paths.manifest, std::move(complete)));
    return CreateDirectories(fs, tree, paths.root);
  }();
  RETURN_IF_ERROR(StopIfAnyFailed(leaders, st));

  // 3. What some node lacks.
  Bitmap wanted_anywhere = ToBitmap(need);
  leaders.AllReduceOr(wanted_anywhere);
  std::vector<uint32_t> pass = Members(wanted_anywhere, tree.size());
  *stats = StageStats{.nodes = nodes};
  for (const Entry& e : tree) {
    if (e.type == FileType::kRegular) {
      ++stats->files_total;
      stats->bytes_total += e.size;
    } else if (e.type == FileType::kDirectory && !e.path.empty()) {
      ++stats->directories;
    } else if (e.type == FileType::kSymlink) {
      ++stats->symlinks;
    }
  }
  for (uint32_t i : pass) stats->bytes_copied += tree[i].size;
  stats->files_copied = pass.size();
  stats->files_skipped = stats->files_total - stats->files_copied;
  stats->bytes_skipped = stats->bytes_total - stats->bytes_copied;

  // 4. The transfer, and again for copies that did not match.
  Receiver receiver(Destination{.fs = &fs,
                                .tree = &tree,
                                .root = paths.root,
                                .partial_dir = paths.partial_dir,
                                .manifest = manifest.get()},
                    options.io_threads);
  Exchange x{.session = &s,
             .tree = &tree,
             .src = src,
             .receiver = &receiver,
             .bytes_total = stats->bytes_copied,
             .files_total = stats->files_copied};
  s.Progress(0, x.bytes_total, 0, x.files_total);
  std::vector<uint8_t> wanted = std::move(need);
  for (int attempt = 0;; ++attempt) {
    receiver.SetWanted(std::move(wanted));
    std::vector<uint32_t> mismatched;
    st = RunPass(x, std::move(SplitByBytes(tree, pass, nodes)[me]), &mismatched);
    if (absl::Status all = StopIfAnyFailed(leaders, st); !all.ok()) {
      (void)RemoveTree(fs, paths.partial_dir);  // a full disk gets its space back
      return all;
    }
    x.count_progress = false;
    Bitmap again = ToBitmap(Flags(mismatched, tree.size()));
    leaders.AllReduceOr(again);
    pass = Members(again, tree.size());
    if (pass.empty()) break;
    if (attempt == options.verify_retries) {
      (void)RemoveTree(fs, paths.partial_dir);
      return MismatchError(s, tree, src, mismatched, attempt + 1);
    }
    stats->retries += pass.size();
    wanted = Flags(mismatched, tree.size());
  }
  std::vector<uint64_t> read = {x.source_bytes_read.load()};
  leaders.AllReduceSum(read);
  stats->source_bytes_read = read[0];

  // 5. Symlinks, the manifest compacted, directory modes and mtimes (deepest first).
  st = PlaceSymlinks(fs, tree, paths, options.io_threads);
  if (st.ok()) st = RemoveTree(fs, paths.partial_dir);
  if (st.ok()) {
    st = manifest->Compact([&](const std::string& path, const ManifestRecord& r) {
      const auto it =
          std::lower_bound(tree.begin(), tree.end(), path,
                           [](const Entry& e, const std::string& p) { return e.path < p; });
      return it != tree.end() && it->path == path && it->type == FileType::kRegular &&
             it->size == r.size && it->mtime_ns == r.mtime_ns;
    });
  }
  if (st.ok()) st = FinishDirectories(fs, tree, paths.root);
  return st;
}

}  // namespace
}  // namespace staging

absl::StatusOr<StageStats> StageIn(const std::string& src, const std::string& dst,
                                   const StageOptions& options, Communicator* comm) {
  return staging::RunStaging("stage-in", src, dst, options, comm, &staging::StageInOnLeader);
}

}  // namespace drocc::runtime
