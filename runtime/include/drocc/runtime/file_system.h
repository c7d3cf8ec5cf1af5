#pragma once

// The seam between data staging (drocc/runtime/staging.h) and the file system: every file
// operation staging makes on SRC and DST goes through a FileSystem, so tests wrap the real one
// (PosixFileSystem) to inject faults (a corrupted write, a full disk, a crash after N files)
// or to count what is read.
//
// Paths are plain strings, absolute or relative to the working directory. No operation follows
// a symbolic link in the last component of its path (Lstat, ReadLink, OpenForRead and Create
// refuse or describe the link itself), so a symlink planted in a destination never redirects a
// write. Errors are absl::Status values whose message names the path and says what to do; the
// code says what kind of failure it was (NotFound, PermissionDenied, ResourceExhausted for a
// full disk or quota, FailedPrecondition for a path of the wrong kind).
//
// Thread safety: a FileSystem is used from several threads at once. A File is used from one
// thread at a time, except that PRead and PWrite may be called concurrently (at any offsets).

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace drocc::runtime {

enum class FileType {
  kRegular,
  kDirectory,
  kSymlink,
  kFifo,
  kSocket,
  kCharDevice,
  kBlockDevice,
  kUnknown,
};
// "regular file", "directory", "symbolic link", "fifo", ...
const char* FileTypeName(FileType type);

// What lstat says about a path.
struct FileInfo {
  FileType type = FileType::kUnknown;
  uint64_t size = 0;     // bytes (regular files; the target's length for symlinks)
  uint32_t mode = 0;     // permission bits: 07777
  int64_t mtime_ns = 0;  // modification time, nanoseconds since the epoch
};

// An open file.
class File {
 public:
  virtual ~File() = default;
  // Reads up to `n` bytes at `offset`; fewer only at the end of the file (0 at or past it).
  virtual absl::StatusOr<size_t> PRead(uint64_t offset, void* data, size_t n) = 0;
  // Writes exactly `n` bytes at `offset` (files from Create).
  virtual absl::Status PWrite(uint64_t offset, const void* data, size_t n) = 0;
  // Writes the `n` bytes at `offset` of `from` to the same place in this file (a file from
  // Create), copied by the kernel (copy_file_range, as cp does) without passing through this
  // process. Unimplemented where that cannot be done (files of two different filesystems,
  // other File implementations; the default): then the caller writes the bytes itself.
  // FailedPrecondition if `from` ends before `offset + n`.
  virtual absl::Status CopyRangeFrom(File& from, uint64_t offset, size_t n);
  // fstat of the open file.
  virtual absl::StatusOr<FileInfo> Stat() = 0;
  // fchmod: the permission bits of the open file.
  virtual absl::Status SetMode(uint32_t mode) = 0;
  // futimens: the modification time of the open file (the access time is left alone).
  virtual absl::Status SetMtime(int64_t mtime_ns) = 0;
  // fsync.
  virtual absl::Status Sync() = 0;
  // Starts writing the range to the disk without waiting for it (sync_file_range with
  // SYNC_FILE_RANGE_WRITE): a hint, so that a large copy reaches the disk while it is being
  // made rather than all at the next sync. No durability promise; errors are ignored (the
  // default does nothing).
  virtual void StartWriteback(uint64_t offset, size_t n);
  // Closes the file, reporting what close reports (a delayed write error of a network
  // filesystem). The destructor closes a file not closed yet, ignoring errors.
  virtual absl::Status Close() = 0;
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  // lstat. NotFound when nothing is there.
  virtual absl::StatusOr<FileInfo> Lstat(const std::string& path) = 0;
  // The absolute path with every symlink resolved (realpath).
  virtual absl::StatusOr<std::string> RealPath(const std::string& path) = 0;
  // Opens a regular file for reading. FailedPrecondition for a symlink or anything else that
  // is not a regular file.
  virtual absl::StatusOr<std::unique_ptr<File>> OpenForRead(const std::string& path) = 0;
  // Creates `path` (or truncates it) for writing and reading back, with permission bits `mode`
  // (before the umask). FailedPrecondition if `path` is a symlink.
  virtual absl::StatusOr<std::unique_ptr<File>> Create(const std::string& path, uint32_t mode) = 0;
  // The names in a directory, except "." and "..", in no particular order.
  virtual absl::StatusOr<std::vector<std::string>> ReadDir(const std::string& path) = 0;
  // The target of a symlink.
  virtual absl::StatusOr<std::string> ReadLink(const std::string& path) = 0;
  // mkdir. AlreadyExists if anything is at `path`.
  virtual absl::Status MakeDir(const std::string& path, uint32_t mode) = 0;
  // Creates a symlink at `path` pointing to `target`. AlreadyExists if anything is at `path`.
  virtual absl::Status Symlink(const std::string& target, const std::string& path) = 0;
  // rename(2): replaces a file, symlink or empty directory at `to`.
  virtual absl::Status Rename(const std::string& from, const std::string& to) = 0;
  // Swaps two existing paths atomically (renameat2 with RENAME_EXCHANGE). Unimplemented when
  // the filesystem (or kernel) cannot.
  virtual absl::Status Exchange(const std::string& a, const std::string& b) = 0;
  // Removes a file or symlink (not a directory).
  virtual absl::Status Unlink(const std::string& path) = 0;
  // Removes an empty directory.
  virtual absl::Status RemoveDir(const std::string& path) = 0;
  // Sets the permission bits of a file or directory (not of a symlink).
  virtual absl::Status Chmod(const std::string& path, uint32_t mode) = 0;
  // Sets the modification time of the entry at `path` itself (of a symlink, the link's own);
  // the access time is left alone.
  virtual absl::Status SetMtime(const std::string& path, int64_t mtime_ns) = 0;
  // fsync of a directory: its entries are durable.
  virtual absl::Status SyncDir(const std::string& path) = 0;
};

// The real file system: POSIX calls, O_NOFOLLOW, renameat2.
class PosixFileSystem final : public FileSystem {
 public:
  absl::StatusOr<FileInfo> Lstat(const std::string& path) override;
  absl::StatusOr<std::string> RealPath(const std::string& path) override;
  absl::StatusOr<std::unique_ptr<File>> OpenForRead(const std::string& path) override;
  absl::StatusOr<std::unique_ptr<File>> Create(const std::string& path, uint32_t mode) override;
  absl::StatusOr<std::vector<std::string>> ReadDir(const std::string& path) override;
  absl::StatusOr<std::string> ReadLink(const std::string& path) override;
  absl::Status MakeDir(const std::string& path, uint32_t mode) override;
  absl::Status Symlink(const std::string& target, const std::string& path) override;
  absl::Status Rename(const std::string& from, const std::string& to) override;
  absl::Status Exchange(const std::string& a, const std::string& b) override;
  absl::Status Unlink(const std::string& path) override;
  absl::Status RemoveDir(const std::string& path) override;
  absl::Status Chmod(const std::string& path, uint32_t mode) override;
  absl::Status SetMtime(const std::string& path, int64_t mtime_ns) override;
  absl::Status SyncDir(const std::string& path) override;
};

// The status for a failed call that set `err` (an errno value) while doing `action` ("cannot
// write", "cannot open") on `path`: the code that fits and a message that says what to do, e.g.
//   destination full: cannot write /local/data/x: No space left on device; free space on the
//   filesystem of /local/data/x or stage to another directory
// For FileSystem implementations (fakes produce the same errors as the real one).
absl::Status ErrnoStatus(int err, absl::string_view action, const std::string& path);

// Helpers over any FileSystem.
// Removes `path` and, for a directory, everything below it, without following symlinks. OK if
// nothing is there.
absl::Status RemoveTree(FileSystem& fs, const std::string& path);
// mkdir -p of a path a user gave (its existing components may be symlinks to directories): each
// missing directory is made with `mode`. FailedPrecondition if a component is not a directory.
absl::Status MakeDirs(FileSystem& fs, const std::string& path, uint32_t mode);

}  // namespace drocc::runtime
