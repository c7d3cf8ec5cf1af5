#include "runtime/src/staging/tree.h"

#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/status.h"

namespace drocc::runtime::staging {
namespace {

constexpr int kMaxSymlinkExpansions = 40;  // the kernel's limit (ELOOP)

std::vector<std::string> Components(absl::string_view path) {
  std::vector<std::string> out;
  for (absl::string_view c : absl::StrSplit(path, '/', absl::SkipEmpty())) out.emplace_back(c);
  return out;
}

// Collapses ".", ".." and empty components of an absolute path.
std::string NormalizeAbsolute(absl::string_view path) {
  std::vector<std::string> stack;
  for (std::string& c : Components(path)) {
    if (c == ".") continue;
    if (c == "..") {
      if (!stack.empty()) stack.pop_back();
      continue;
    }
    stack.push_back(std::move(c));
  }
  return "/" + absl::StrJoin(stack, "/");
}

// `path` relative to `root` (both normalized absolute), if it is `root` or below it.
bool RelativeTo(const std::string& root, const std::string& path, std::string* rel) {
  if (root == "/") {
    *rel = path.substr(1);
    return true;
  }
  if (path == root) {
    rel->clear();
    return true;
  }
  if (path.size() > root.size() && path.compare(0, root.size(), root) == 0 &&
      path[root.size()] == '/') {
    *rel = path.substr(root.size() + 1);
    return true;
  }
  return false;
}

absl::Status OtherTypeError(const std::string& path, FileType type) {
  return absl::FailedPreconditionError(absl::StrCat(
      "SRC contains ", path, ", a ", FileTypeName(type),
      "; staging copies regular files, directories and symbolic links only: remove it from SRC "
      "or stage a directory without it"));
}

// Lists the directories of a tree in parallel: a queue of directories to read, `threads`
// threads taking from it, each keeping its own entries until the end.
class Walker {
 public:
  Walker(FileSystem& fs, std::string root) : fs_(fs), root_(std::move(root)) {}

  absl::StatusOr<std::vector<Entry>> Run(int threads) {
    pending_.push_back("");
    std::vector<std::thread> pool;
    for (int i = 1; i < threads; ++i) pool.emplace_back([this] { Work(); });
    Work();
    for (std::thread& t : pool) t.join();
    if (!error_.ok()) return error_;
    return std::move(entries_);
  }

 private:
  void Work() {
    std::vector<Entry> mine;
    std::vector<std::string> found_dirs;
    std::unique_lock lock(mu_);
    for (;;) {
      changed_.wait(lock, [&] { return !pending_.empty() || busy_ == 0 || !error_.ok(); });
      if (!error_.ok() || pending_.empty()) break;  // failed, or nothing left to list
      const std::string dir = std::move(pending_.front());
      pending_.pop_front();
      ++busy_;
      lock.unlock();
      absl::Status st = List(dir, mine, found_dirs);
      lock.lock();
      --busy_;
      if (!st.ok() && error_.ok()) error_ = std::move(st);
      for (std::string& d : found_dirs) pending_.push_back(std::move(d));
      found_dirs.clear();
      changed_.notify_all();
    }
    entries_.insert(entries_.end(), std::make_move_iterator(mine.begin()),
                    std::make_move_iterator(mine.end()));
    changed_.notify_all();
  }

  // The entries of directory `dir` (relative) into `out`; its subdirectories into `dirs`.
  absl::Status List(const std::string& dir, std::vector<Entry>& out,
                    std::vector<std::string>& dirs) {
    const std::string full_dir = JoinPath(root_, dir);
    ASSIGN_OR_RETURN(const std::vector<std::string> names, fs_.ReadDir(full_dir));
    for (const std::string& name : names) {
      if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos ||
          name.find('\0') != std::string::npos) {
        return absl::DataLossError(
            absl::StrCat("directory ", full_dir, " lists an impossible name \"", name, "\""));
      }
      if (dir.empty() && name == kStateDirName) continue;
      Entry e;
      e.path = dir.empty() ? name : absl::StrCat(dir, "/", name);
      const std::string full = JoinPath(root_, e.path);
      absl::StatusOr<FileInfo> info = fs_.Lstat(full);
      if (absl::IsNotFound(info.status())) continue;  // removed since readdir: not in SRC
      if (!info.ok()) return info.status();
      e.type = info->type;
      e.mode = info->mode;
      e.mtime_ns = info->mtime_ns;
      switch (info->type) {
        case FileType::kRegular:
          e.size = info->size;
          break;
        case FileType::kDirectory:
          dirs.push_back(e.path);
          break;
        case FileType::kSymlink: {
          ASSIGN_OR_RETURN(e.target, fs_.ReadLink(full));
          break;
        }
        default:
          return OtherTypeError(full, info->type);
      }
      out.push_back(std::move(e));
    }
    return absl::OkStatus();
  }

  FileSystem& fs_;
  const std::string root_;
  std::mutex mu_;
  std::condition_variable changed_;
  std::deque<std::string> pending_;  // directories to list; guarded by mu_
  int busy_ = 0;                     // threads listing one; guarded by mu_
  absl::Status error_;               // the first failure; guarded by mu_
  std::vector<Entry> entries_;       // every thread's, once it is done; guarded by mu_
};

// Where `target`, a symlink in directory `dir` (relative), leads within the tree: false if
// out of it. `index` maps paths to entries. Sets `*loop` when there are too many links.
bool StaysInside(const Tree& tree, const std::unordered_map<std::string_view, size_t>& index,
                 const std::string& dir, const std::string& target, bool* loop) {
  std::vector<std::string> at = Components(dir);
  std::deque<std::string> todo;
  for (std::string& c : Components(target)) todo.push_back(std::move(c));
  int expansions = 0;
  while (!todo.empty()) {
    std::string c = std::move(todo.front());
    todo.pop_front();
    if (c == ".") continue;
    if (c == "..") {
      if (at.empty()) return false;
      at.pop_back();
      continue;
    }
    at.push_back(std::move(c));
    const auto it = index.find(absl::StrJoin(at, "/"));
    if (it == index.end() || tree[it->second].type != FileType::kSymlink) continue;
    if (++expansions > kMaxSymlinkExpansions) {
      *loop = true;
      return false;
    }
    at.pop_back();  // the link's own directory is where its target starts
    std::vector<std::string> more = Components(tree[it->second].target);
    todo.insert(todo.begin(), std::make_move_iterator(more.begin()),
                std::make_move_iterator(more.end()));
  }
  return true;
}

void PutU32(std::string& out, uint32_t v) { out.append(reinterpret_cast<const char*>(&v), 4); }
void PutU64(std::string& out, uint64_t v) { out.append(reinterpret_cast<const char*>(&v), 8); }

class WireReader {
 public:
  explicit WireReader(absl::string_view wire) : rest_(wire) {}
  bool U32(uint32_t* v) { return Fixed(v, 4); }
  bool U64(uint64_t* v) { return Fixed(v, 8); }
  bool Str(std::string* s) {
    uint32_t n = 0;
    if (!U32(&n) || rest_.size() < n) return false;
    s->assign(rest_.data(), n);
    rest_.remove_prefix(n);
    return true;
  }
  bool done() const { return rest_.empty(); }

 private:
  bool Fixed(void* v, size_t n) {
    if (rest_.size() < n) return false;
    std::memcpy(v, rest_.data(), n);
    rest_.remove_prefix(n);
    return true;
  }
  absl::string_view rest_;
};

}  // namespace

bool IsCleanRelativePath(absl::string_view path) {
  if (path.empty()) return false;
  for (absl::string_view c : absl::StrSplit(path, '/')) {
    if (c.empty() || c == "." || c == ".." || c.find('\0') != absl::string_view::npos) {
      return false;
    }
  }
  return true;
}

std::string JoinPath(const std::string& root, const std::string& rel) {
  if (rel.empty()) return root;
  if (!root.empty() && root.back() == '/') return root + rel;
  return absl::StrCat(root, "/", rel);
}

std::string TreeParent(const std::string& rel) {
  const size_t slash = rel.rfind('/');
  return slash == std::string::npos ? std::string() : rel.substr(0, slash);
}

std::string LexicalAbsolute(const std::string& path) {
  if (!path.empty() && path[0] == '/') return NormalizeAbsolute(path);
  std::string cwd(4096, '\0');
  if (::getcwd(cwd.data(), cwd.size()) == nullptr) return NormalizeAbsolute("/" + path);
  cwd.resize(std::strlen(cwd.c_str()));
  return NormalizeAbsolute(absl::StrCat(cwd, "/", path));
}

absl::StatusOr<Tree> WalkTree(FileSystem& fs, const std::string& root, int threads) {
  absl::StatusOr<FileInfo> info = fs.Lstat(root);
  if (absl::IsNotFound(info.status())) {
    return absl::NotFoundError(absl::StrCat("SRC ", root, " does not exist; check the path"));
  }
  if (!info.ok()) return info.status();
  std::string walked = root;  // SRC itself may be a symlink: the user's own path, followed
  if (info->type == FileType::kSymlink) {
    ASSIGN_OR_RETURN(walked, fs.RealPath(root));
    ASSIGN_OR_RETURN(info, fs.Lstat(walked));
  }
  Entry top{.path = "", .type = info->type, .mode = info->mode, .mtime_ns = info->mtime_ns};
  if (info->type == FileType::kRegular) {
    top.size = info->size;
    return Tree{std::move(top)};
  }
  if (info->type != FileType::kDirectory) {
    return absl::FailedPreconditionError(absl::StrCat(
        "SRC ", root, " is a ", FileTypeName(info->type), "; stage a directory or a regular file"));
  }
  ASSIGN_OR_RETURN(std::vector<Entry> entries, Walker(fs, walked).Run(std::max(1, threads)));
  Tree tree;
  tree.reserve(entries.size() + 1);
  tree.push_back(std::move(top));
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return a.path < b.path; });
  tree.insert(tree.end(), std::make_move_iterator(entries.begin()),
              std::make_move_iterator(entries.end()));
  ASSIGN_OR_RETURN(const std::string real, fs.RealPath(walked));
  RETURN_IF_ERROR(CheckSymlinks(tree, root, real));
  return tree;
}

absl::Status CheckSymlinks(Tree& tree, const std::string& root, const std::string& root_real) {
  const std::string roots[] = {LexicalAbsolute(root), NormalizeAbsolute(root_real)};
  auto refuse = [&](const Entry& e, const std::string& target, absl::string_view why) {
    return absl::FailedPreconditionError(absl::StrCat(
        "symbolic link ", JoinPath(root, e.path), " points to ", target, ", ", why,
        "; staging copies a tree that stands on its own: replace the link by what it points "
        "to, or make it point inside SRC"));
  };
  // Absolute targets first, so that resolving one link through another sees relative ones.
  for (Entry& e : tree) {
    if (e.type != FileType::kSymlink) continue;
    if (e.target.empty()) return refuse(e, "\"\"", "which is empty");
    if (e.target[0] != '/') continue;
    const std::string normal = NormalizeAbsolute(e.target);
    std::string rel;
    if (!RelativeTo(roots[0], normal, &rel) && !RelativeTo(roots[1], normal, &rel)) {
      return refuse(e, e.target, "outside SRC");
    }
    std::string up;
    for (size_t depth = Components(TreeParent(e.path)).size(); depth > 0; --depth) {
      absl::StrAppend(&up, depth > 1 || !rel.empty() ? "../" : "..");
    }
    e.target = up.empty() && rel.empty() ? "." : up + rel;
  }
  std::unordered_map<std::string_view, size_t> index;
  index.reserve(tree.size());
  for (size_t i = 0; i < tree.size(); ++i) index.emplace(tree[i].path, i);
  for (const Entry& e : tree) {
    if (e.type != FileType::kSymlink) continue;
    bool loop = false;
    if (!StaysInside(tree, index, TreeParent(e.path), e.target, &loop)) {
      return refuse(e, e.target,
                    loop ? "through a loop of symbolic links" : "which leads outside SRC");
    }
  }
  return absl::OkStatus();
}

std::string EncodeTree(const Tree& tree) {
  std::string out;
  PutU64(out, tree.size());
  for (const Entry& e : tree) {
    PutU32(out, static_cast<uint32_t>(e.type));
    PutU32(out, e.mode);
    PutU64(out, e.size);
    PutU64(out, static_cast<uint64_t>(e.mtime_ns));
    PutU32(out, static_cast<uint32_t>(e.path.size()));
    out += e.path;
    PutU32(out, static_cast<uint32_t>(e.target.size()));
    out += e.target;
  }
  return out;
}

absl::StatusOr<Tree> DecodeTree(absl::string_view wire) {
  auto bad = [](absl::string_view why) {
    return absl::DataLossError(absl::StrCat("the list of files received is malformed: ", why));
  };
  WireReader in(wire);
  uint64_t count = 0;
  if (!in.U64(&count) || count == 0 || count > wire.size()) return bad("no entries");
  Tree tree;
  tree.reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    Entry e;
    uint32_t type = 0;
    uint64_t mtime = 0;
    if (!in.U32(&type) || !in.U32(&e.mode) || !in.U64(&e.size) || !in.U64(&mtime) ||
        !in.Str(&e.path) || !in.Str(&e.target)) {
      return bad("truncated");
    }
    e.type = static_cast<FileType>(type);
    e.mtime_ns = static_cast<int64_t>(mtime);
    if (e.type != FileType::kRegular && e.type != FileType::kDirectory &&
        e.type != FileType::kSymlink) {
      return bad("an entry of an unknown type");
    }
    if (i == 0 ? !e.path.empty() || e.type == FileType::kSymlink
               : !IsCleanRelativePath(e.path) || e.path <= tree.back().path) {
      return bad(absl::StrCat("the path \"", e.path, "\" is out of place"));
    }
    if (e.type == FileType::kSymlink && (e.target.empty() || e.target[0] == '/')) {
      return bad(absl::StrCat("the symbolic link \"", e.path, "\" has an absolute target"));
    }
    tree.push_back(std::move(e));
  }
  if (!in.done()) return bad("trailing bytes");
  if (tree[0].type == FileType::kRegular && tree.size() != 1) return bad("a file with entries");
  return tree;
}

}  // namespace drocc::runtime::staging
