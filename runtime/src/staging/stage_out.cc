// StageOut (drocc/runtime/staging.h, docs/staging.md "Stage-out"): each node leader copies its
// SRC to a temporary sibling of its DST, verifies and syncs it, and only then puts it under
// DST's name (swapping out a previous result atomically).

#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <exception>
#include <map>
#include <mutex>
#include <thread>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "drocc/runtime/staging.h"
#include "runtime/src/checkpoint/protocol.h"
#include "runtime/src/staging/checksum.h"
#include "runtime/src/staging/destination.h"
#include "runtime/src/staging/session.h"
#include "runtime/src/staging/tree.h"
#include "runtime/src/staging/work.h"

namespace drocc::runtime {
namespace staging {
namespace {

constexpr char kTmpInfix[] = ".drocc-stage-tmp.";
constexpr char kOldInfix[] = ".drocc-stage-old.";
// How often the leaders compare progress while copying (and notice that all are done).
constexpr absl::Duration kMinTick = absl::Milliseconds(10);
constexpr absl::Duration kMaxTick = absl::Milliseconds(200);

struct Counters {
  std::atomic<uint64_t> bytes_done{0};
  std::atomic<uint64_t> files_done{0};
  std::atomic<uint64_t> source_bytes_read{0};
  std::atomic<uint64_t> retries{0};
};

std::string BaseName(const std::string& path) {
  const std::string abs = LexicalAbsolute(path);
  return abs.substr(abs.rfind('/') + 1);
}

// Copies the regular file `from` to `to`, hashing what it reads, gives the copy the source's
// mtime, syncs it, reads it back and compares (then gives it the source's mode); a copy that
// does not match is made again (verify_retries times).
absl::Status CopyVerified(FileSystem& fs, const std::string& from, const std::string& to,
                          const Entry& e, const StageOptions& options, const std::string& node,
                          Counters& counters) {
  const size_t block = static_cast<size_t>(std::min<uint64_t>(options.chunk_bytes, e.size + 1));
  auto buffer = std::make_unique_for_overwrite<char[]>(block);
  Xxh3 hash;
  for (int attempt = 0;; ++attempt) {
    ASSIGN_OR_RETURN(std::unique_ptr<File> in, fs.OpenForRead(from));
    ASSIGN_OR_RETURN(std::unique_ptr<File> out, fs.Create(to, 0600));
    hash.Reset();
    uint64_t offset = 0;
    for (;;) {
      ASSIGN_OR_RETURN(const size_t n, in->PRead(offset, buffer.get(), block));
      if (n == 0) break;
      counters.source_bytes_read += n;
      hash.Update(buffer.get(), n);
      RETURN_IF_ERROR(out->PWrite(offset, buffer.get(), n));
      offset += n;
      if (attempt == 0) counters.bytes_done += n;
    }
    ASSIGN_OR_RETURN(const FileInfo after, in->Stat());
    if (offset != e.size || after.size != e.size || after.mtime_ns != e.mtime_ns) {
      return absl::FailedPreconditionError(absl::StrCat(
          "SRC file ", from, " changed while it was being staged out (", e.size,
          " bytes when listed, ", offset, " read); stage out once the job no longer writes it"));
    }
    RETURN_IF_ERROR(in->Close());
    RETURN_IF_ERROR(out->SetMtime(e.mtime_ns));
    RETURN_IF_ERROR(out->Sync());
    RETURN_IF_ERROR(out->Close());
    ASSIGN_OR_RETURN(const bool match, CheckCopy(fs, to, e.size, hash.Digest(), e.mode));
    if (match) break;
    if (attempt == options.verify_retries) {
      return absl::DataLossError(absl::StrCat(
          "the copy of ", from, " at ", to, " did not match the checksum of the source after ",
          attempt + 1, " attempts (1 + verify_retries) on node ", node,
          "; the data was damaged on its way to DST or by its storage: check DST's filesystem, "
          "then rerun"));
    }
    ++counters.retries;
  }
  ++counters.files_done;
  return absl::OkStatus();
}

// The whole tree into `tmp`, durable before it returns: files synced one by one, then every
// directory (deepest first), then directory modes and mtimes.
absl::Status CopyTree(FileSystem& fs, const Tree& tree, const std::string& src,
                      const std::string& tmp, const StageOptions& options, const std::string& node,
                      Counters& counters) {
  if (tree[0].type == FileType::kRegular) {
    return CopyVerified(fs, src, tmp, tree[0], options, node, counters);
  }
  RETURN_IF_ERROR(fs.MakeDir(tmp, 0700));
  for (size_t i = 1; i < tree.size(); ++i) {
    if (tree[i].type == FileType::kDirectory) {
      RETURN_IF_ERROR(fs.MakeDir(JoinPath(tmp, tree[i].path), 0700));
    }
  }
  RETURN_IF_ERROR(ParallelFor(tree.size(), options.io_threads, [&](size_t i) -> absl::Status {
    const Entry& e = tree[i];
    if (e.type == FileType::kRegular) {
      return CopyVerified(fs, JoinPath(src, e.path), JoinPath(tmp, e.path), e, options, node,
                          counters);
    }
    if (e.type == FileType::kSymlink) {
      const std::string link = JoinPath(tmp, e.path);
      RETURN_IF_ERROR(fs.Symlink(e.target, link));
      return fs.SetMtime(link, e.mtime_ns);
    }
    return absl::OkStatus();
  }));
  for (size_t i = tree.size(); i-- > 0;) {
    if (tree[i].type == FileType::kDirectory) {
      RETURN_IF_ERROR(fs.SyncDir(JoinPath(tmp, tree[i].path)));
    }
  }
  return FinishDirectories(fs, tree, tmp);
}

// Removes what an earlier, killed stage-out of this node to `dst` left beside it. If it was
// killed between the two renames of a publication without RENAME_EXCHANGE, the previous
// result is put back first.
absl::Status RemoveLeftovers(FileSystem& fs, const std::string& dst, const std::string& node) {
  const std::string parent = ParentDirectory(dst);
  absl::StatusOr<std::vector<std::string>> names = fs.ReadDir(parent);
  if (absl::IsNotFound(names.status())) return absl::OkStatus();
  if (!names.ok()) return names.status();
  const std::string base = BaseName(dst);
  const std::string tmp_prefix = absl::StrCat(base, kTmpInfix, node, ".");
  const std::string old_prefix = absl::StrCat(base, kOldInfix, node, ".");
  bool dst_exists = fs.Lstat(dst).ok();
  for (const std::string& name : *names) {
    const std::string path = JoinPath(parent, name);
    if (absl::StartsWith(name, old_prefix) && !dst_exists) {
      RETURN_IF_ERROR(fs.Rename(path, dst));
      dst_exists = true;
    } else if (absl::StartsWith(name, tmp_prefix) || absl::StartsWith(name, old_prefix)) {
      RETURN_IF_ERROR(RemoveTree(fs, path));
    }
  }
  return absl::OkStatus();
}

// Puts the complete copy `tmp` under `dst`'s name: a rename if there is nothing there, else an
// atomic exchange with the previous result, which is then removed (without RENAME_EXCHANGE:
// two renames, so that for a moment there is no DST, but never a partial one).
absl::Status Publish(FileSystem& fs, const std::string& tmp, const std::string& dst,
                     const std::string& node) {
  absl::StatusOr<FileInfo> there = fs.Lstat(dst);
  if (absl::IsNotFound(there.status())) {
    RETURN_IF_ERROR(fs.Rename(tmp, dst));
  } else if (!there.ok()) {
    return there.status();
  } else {
    std::string previous = tmp;  // where the previous result ends up
    absl::Status st = fs.Exchange(tmp, dst);
    if (absl::IsUnimplemented(st)) {
      previous = absl::StrCat(dst, kOldInfix, node, ".", ::getpid());
      RETURN_IF_ERROR(fs.Rename(dst, previous));
      RETURN_IF_ERROR(fs.Rename(tmp, dst));
    } else if (!st.ok()) {
      return st;
    }
    if (absl::Status removed = RemoveTree(fs, previous); !removed.ok()) {
      checkpoint::Log(absl::StrCat("stage-out: node ", node, ": ", dst,
                                   " holds the new result, but the previous one, now at ", previous,
                                   ", could not be removed: ", removed.message(),
                                   "; remove it by hand"));
    }
  }
  return fs.SyncDir(ParentDirectory(dst));
}

// Two nodes must not publish to the same place. Every leader finds the same first clash.
absl::Status CheckDistinct(Session& s, const std::string& dst) {
  const std::vector<std::string> all = s.leaders().AllGather(LexicalAbsolute(dst));
  std::map<std::string, size_t> first;
  for (size_t node = 0; node < all.size(); ++node) {
    const auto [it, added] = first.emplace(all[node], node);
    if (!added) {
      return absl::InvalidArgumentError(
          absl::StrCat("nodes ", s.layout().names[it->second], " and ", s.layout().names[node],
                       " would both stage out to ", all[node],
                       "; put %n in DST so that each node has its own (e.g. ", all[node], "/%n)"));
    }
  }
  return absl::OkStatus();
}

absl::Status StageOutOnLeader(Session& s, const std::string& src_pattern,
                              const std::string& dst_pattern, StageStats* stats) {
  FileSystem& fs = s.fs();
  Communicator& leaders = s.leaders();
  const StageOptions& options = s.options();
  const std::string& node = s.node_name();
  const std::string src = ExpandNodeName(src_pattern, node);
  const std::string dst = ExpandNodeName(dst_pattern, node);
  RETURN_IF_ERROR(CheckDistinct(s, dst));  // the same outcome on every leader

  const std::string tmp = absl::StrCat(dst, kTmpInfix, node, ".", ::getpid());
  Tree tree;
  absl::Status st = [&]() -> absl::Status {
    RETURN_IF_ERROR(CheckSeparate(src, dst));
    ASSIGN_OR_RETURN(tree, WalkTree(fs, src, options.io_threads));
    RETURN_IF_ERROR(MakeDirs(fs, ParentDirectory(dst), 0755));
    return RemoveLeftovers(fs, dst, node);
  }();
  RETURN_IF_ERROR(StopIfAnyFailed(leaders, st));

  std::vector<uint64_t> totals = {0, 0, 0, 0};  // files, bytes, directories, symlinks
  for (const Entry& e : tree) {
    if (e.type == FileType::kRegular) {
      ++totals[0];
      totals[1] += e.size;
    } else if (e.type == FileType::kDirectory && !e.path.empty()) {
      ++totals[2];
    } else if (e.type == FileType::kSymlink) {
      ++totals[3];
    }
  }
  leaders.AllReduceSum(totals);

  // The copy runs on its own thread; this one compares progress with the other leaders until
  // every one is done (a collective each tick, so all leave the loop together).
  Counters counters;
  std::mutex mu;
  std::condition_variable done_cv;
  bool done = false;
  std::thread copier([&] {
    try {
      st = CopyTree(fs, tree, src, tmp, options, node, counters);
    } catch (const std::exception& e) {  // (out of memory) must not end the process here
      st = absl::InternalError(absl::StrCat("stage-out: ", e.what()));
    }
    std::lock_guard lock(mu);
    done = true;
    done_cv.notify_all();
  });
  const absl::Duration tick = std::clamp(options.progress_interval, kMinTick, kMaxTick);
  for (;;) {
    bool mine_done;
    {
      std::unique_lock lock(mu);
      done_cv.wait_for(lock, absl::ToChronoMilliseconds(tick), [&] { return done; });
      mine_done = done;
    }
    std::vector<uint64_t> now = {counters.bytes_done, counters.files_done, mine_done ? 1u : 0u};
    leaders.AllReduceSum(now);
    s.Progress(now[0], totals[1], now[1], totals[0]);
    if (now[2] == static_cast<uint64_t>(leaders.Size())) break;
  }
  copier.join();
  if (absl::Status all = StopIfAnyFailed(leaders, st); !all.ok()) {
    (void)RemoveTree(fs, tmp);
    return all;
  }
  st = Publish(fs, tmp, dst, node);

  std::vector<uint64_t> sums = {counters.source_bytes_read, counters.retries};
  leaders.AllReduceSum(sums);
  *stats = StageStats{.nodes = leaders.Size(),
                      .files_total = totals[0],
                      .bytes_total = totals[1],
                      .files_copied = totals[0],
                      .bytes_copied = totals[1],
                      .source_bytes_read = sums[0],
                      .retries = sums[1],
                      .directories = totals[2],
                      .symlinks = totals[3]};
  return st;
}

}  // namespace
}  // namespace staging

absl::StatusOr<StageStats> StageOut(const std::string& src, const std::string& dst,
                                    const StageOptions& options, Communicator* comm) {
  return staging::RunStaging("stage-out", src, dst, options, comm, &staging::StageOutOnLeader);
}

}  // namespace drocc::runtime
