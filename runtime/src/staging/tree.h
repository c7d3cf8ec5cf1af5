#pragma once

// The tree being staged: the list of SRC's entries (regular files, directories, symbolic
// links), how it is walked and checked, and its wire form (leader 0 walks, every leader gets
// the list).
//
// Paths inside the tree are relative, '/'-separated, with no empty, "." or ".." component; ""
// is the root itself. Nothing in the tree can lead out of it: names come from readdir (and are
// checked again when a list is decoded), and every symlink is resolved against the tree
// (CheckSymlinks) before anything is copied.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "drocc/runtime/file_system.h"

namespace drocc::runtime::staging {

// Staging's own state inside DST (the manifest, partial files). A top-level entry of this
// name in SRC is staging's bookkeeping from an earlier copy, never data: the walk skips it.
inline constexpr char kStateDirName[] = ".drocc-stage";

struct Entry {
  std::string path;                    // relative to the root; "" is the root
  FileType type = FileType::kRegular;  // kRegular, kDirectory or kSymlink
  uint64_t size = 0;                   // regular files
  uint32_t mode = 0;                   // permission bits
  int64_t mtime_ns = 0;
  std::string target;  // symlinks: the target to create (relative, checked to stay inside)
};

// Sorted by path, so that every directory comes before what is in it; [0] is the root (a
// directory, or the one regular file when the root is a file).
using Tree = std::vector<Entry>;

// Lists `root` (SRC: a directory, a regular file, or a symlink to one of them) with `threads`
// threads listing directories in parallel, then checks its symlinks (CheckSymlinks). Errors:
// NotFound for a missing root; FailedPrecondition for a root that is neither a directory nor a
// regular file, for a fifo, socket or device anywhere in the tree (named), and for a symlink
// that leads out of it; the error of an unreadable directory.
absl::StatusOr<Tree> WalkTree(FileSystem& fs, const std::string& root, int threads);

// The symlink rule. A target is resolved the way the kernel would, against the tree itself:
// component by component from the link's directory, following the tree's other symlinks (at
// most 40), so that "a/up/../../x" is judged by where "a/up" really leads. A link whose target
// leads out of the root is refused, naming the link and its target. An absolute target inside
// the root (as `root` was written, made absolute, or with its symlinks resolved: `root_real`)
// is rewritten as the equivalent relative one, so that the copy points into the copy; an
// absolute target outside is refused. Targets that lead nowhere (dangling) but stay inside are
// kept. `root` names SRC in messages.
absl::Status CheckSymlinks(Tree& tree, const std::string& root, const std::string& root_real);

// The wire form of a tree. DecodeTree refuses (DataLoss) anything malformed: unknown types,
// unclean or unsorted paths, a root that is not first, absolute symlink targets.
std::string EncodeTree(const Tree& tree);
absl::StatusOr<Tree> DecodeTree(absl::string_view wire);

// Relative, '/'-separated, no empty, "." or ".." component (and not "").
bool IsCleanRelativePath(absl::string_view path);
// `root`/`rel`, or `root` for the root itself (rel "").
std::string JoinPath(const std::string& root, const std::string& rel);
// The directory part of a relative tree path ("" for a top-level entry).
std::string TreeParent(const std::string& rel);
// `path` made absolute against the working directory, with ".", ".." and repeated slashes
// resolved lexically (symlinks are not looked at). "/" stays "/".
std::string LexicalAbsolute(const std::string& path);

}  // namespace drocc::runtime::staging
