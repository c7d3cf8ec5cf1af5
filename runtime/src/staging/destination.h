#pragma once

// Laying out a copy of a tree in a destination: its own directories (real ones, writable while
// staging writes into them, given their modes and mtimes at the end), and stage-in's state
// beside them.

#include <string>

#include "absl/status/statusor.h"
#include "drocc/runtime/file_system.h"
#include "runtime/src/staging/tree.h"

namespace drocc::runtime::staging {

// Where one node's stage-in keeps its state.
struct DstPaths {
  std::string root;         // DST
  std::string state_dir;    // DST/.drocc-stage, or DST.drocc-stage when SRC is one file
  std::string partial_dir;  // state_dir/partial: copies being written, never complete ones
  std::string manifest;     // state_dir/manifest
};

// Makes DST ready for a tree whose root is `root`: DST (a directory, made if missing, or for a
// file root its parent directory), the state directory, and an empty partial directory (what
// an interrupted run left there is removed). FailedPrecondition when DST is of the other kind
// (a file where SRC is a directory, or the reverse).
absl::StatusOr<DstPaths> PrepareDestination(FileSystem& fs, const std::string& dst,
                                            const Entry& root);

// `path` is a real directory this process can write into: made (0700) if missing, a file or
// symlink there replaced by one, an existing one made u+rwx until FinishDirectories.
absl::Status EnsureDirectory(FileSystem& fs, const std::string& path);

// EnsureDirectory for every directory of the tree below its root, parents first.
absl::Status CreateDirectories(FileSystem& fs, const Tree& tree, const std::string& root);

// Gives every directory of the tree (its root included) its mode and mtime, deepest first, so
// that nothing written afterwards inside one changes its mtime again.
absl::Status FinishDirectories(FileSystem& fs, const Tree& tree, const std::string& root);

// InvalidArgument if `src` and `dst` (made absolute lexically) are the same or one is inside
// the other: a copy would then read what it writes.
absl::Status CheckSeparate(const std::string& src, const std::string& dst);

// The directory that holds `path` (made absolute): "/a/b" -> "/a", "/a" -> "/".
std::string ParentDirectory(const std::string& path);

}  // namespace drocc::runtime::staging
