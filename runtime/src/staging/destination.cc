#include "runtime/src/staging/destination.h"

#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace drocc::runtime::staging {

std::string ParentDirectory(const std::string& path) {
  const std::string abs = LexicalAbsolute(path);
  const size_t slash = abs.rfind('/');
  return slash == 0 ? "/" : abs.substr(0, slash);
}

absl::Status CheckSeparate(const std::string& src, const std::string& dst) {
  const std::string a = LexicalAbsolute(src);
  const std::string b = LexicalAbsolute(dst);
  auto inside = [](const std::string& inner, const std::string& outer) {
    return inner == outer || outer == "/" ||
           (inner.size() > outer.size() && inner.compare(0, outer.size(), outer) == 0 &&
            inner[outer.size()] == '/');
  };
  if (inside(b, a) || inside(a, b)) {
    return absl::InvalidArgumentError(
        absl::StrCat("SRC ", src, " and DST ", dst,
                     a == b         ? " are the same"
                     : inside(b, a) ? ": DST is inside SRC"
                                    : ": SRC is inside DST",
                     "; choose a DST outside SRC (and not above it)"));
  }
  return absl::OkStatus();
}

absl::Status EnsureDirectory(FileSystem& fs, const std::string& path) {
  absl::StatusOr<FileInfo> there = fs.Lstat(path);
  if (there.ok() && there->type == FileType::kDirectory) {
    if ((there->mode & 0700) == 0700) return absl::OkStatus();
    return fs.Chmod(path, there->mode | 0700);
  }
  if (there.ok()) {
    RETURN_IF_ERROR(RemoveTree(fs, path));  // SRC has a directory here
  } else if (!absl::IsNotFound(there.status())) {
    return there.status();
  }
  return fs.MakeDir(path, 0700);
}

absl::StatusOr<DstPaths> PrepareDestination(FileSystem& fs, const std::string& dst,
                                            const Entry& root) {
  DstPaths paths{.root = dst};
  absl::StatusOr<FileInfo> there = fs.Lstat(dst);
  if (!there.ok() && !absl::IsNotFound(there.status())) return there.status();
  if (there.ok() && there->type == FileType::kSymlink) {
    // DST itself is the user's own path: a symlink to a directory is followed, as a shell would.
    ASSIGN_OR_RETURN(const std::string real, fs.RealPath(dst));
    there = fs.Lstat(real);
    if (!there.ok()) return there.status();
    if (root.type == FileType::kDirectory) paths.root = real;
  }
  if (root.type == FileType::kDirectory) {
    if (!there.ok()) {
      RETURN_IF_ERROR(MakeDirs(fs, dst, 0700));
    } else if (there->type != FileType::kDirectory) {
      return absl::FailedPreconditionError(
          absl::StrCat("DST ", dst, " is a ", FileTypeName(there->type),
                       ", but SRC is a directory; remove it or choose another DST"));
    } else if ((there->mode & 0700) != 0700) {
      RETURN_IF_ERROR(fs.Chmod(paths.root, there->mode | 0700));
    }
    paths.state_dir = JoinPath(paths.root, kStateDirName);
  } else {
    if (there.ok() && there->type == FileType::kDirectory) {
      return absl::FailedPreconditionError(
          absl::StrCat("DST ", dst,
                       " is a directory, but SRC is a regular file; give the path "
                       "of the copy, e.g. ",
                       JoinPath(dst, "NAME")));
    }
    RETURN_IF_ERROR(MakeDirs(fs, ParentDirectory(dst), 0755));
    paths.state_dir = dst + kStateDirName;
  }
  paths.partial_dir = JoinPath(paths.state_dir, "partial");
  paths.manifest = JoinPath(paths.state_dir, "manifest");
  RETURN_IF_ERROR(EnsureDirectory(fs, paths.state_dir));
  RETURN_IF_ERROR(RemoveTree(fs, paths.partial_dir));
  RETURN_IF_ERROR(fs.MakeDir(paths.partial_dir, 0700));
  return paths;
}

absl::Status CreateDirectories(FileSystem& fs, const Tree& tree, const std::string& root) {
  for (size_t i = 1; i < tree.size(); ++i) {
    if (tree[i].type == FileType::kDirectory) {
      RETURN_IF_ERROR(EnsureDirectory(fs, JoinPath(root, tree[i].path)));
    }
  }
  return absl::OkStatus();
}

absl::Status FinishDirectories(FileSystem& fs, const Tree& tree, const std::string& root) {
  for (size_t i = tree.size(); i-- > 0;) {
    const Entry& e = tree[i];
    if (e.type != FileType::kDirectory) continue;
    const std::string path = JoinPath(root, e.path);
    RETURN_IF_ERROR(fs.Chmod(path, e.mode));
    RETURN_IF_ERROR(fs.SetMtime(path, e.mtime_ns));
  }
  return absl::OkStatus();
}

}  // namespace drocc::runtime::staging
