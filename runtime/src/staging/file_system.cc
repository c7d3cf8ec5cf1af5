// PosixFileSystem, the errno → Status mapping every FileSystem shares, and the helpers over any
// FileSystem (RemoveTree, MakeDirs).

#include "drocc/runtime/file_system.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace drocc::runtime {
namespace {

constexpr int64_t kNanosPerSecond = 1'000'000'000;

FileType TypeOf(mode_t mode) {
  if (S_ISREG(mode)) return FileType::kRegular;
  if (S_ISDIR(mode)) return FileType::kDirectory;
  if (S_ISLNK(mode)) return FileType::kSymlink;
  if (S_ISFIFO(mode)) return FileType::kFifo;
  if (S_ISSOCK(mode)) return FileType::kSocket;
  if (S_ISCHR(mode)) return FileType::kCharDevice;
  if (S_ISBLK(mode)) return FileType::kBlockDevice;
  return FileType::kUnknown;
}

FileInfo InfoOf(const struct stat& st) {
  return FileInfo{
      .type = TypeOf(st.st_mode),
      .size = static_cast<uint64_t>(st.st_size),
      .mode = static_cast<uint32_t>(st.st_mode & 07777),
      .mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * kNanosPerSecond + st.st_mtim.tv_nsec,
  };
}

absl::Status Errno(absl::string_view action, const std::string& path) {
  return ErrnoStatus(errno, action, path);
}

// utimensat/futimens times: access time left alone, modification time `mtime_ns`.
void MtimeTimes(int64_t mtime_ns, struct timespec times[2]) {
  times[0].tv_sec = 0;
  times[0].tv_nsec = UTIME_OMIT;
  times[1].tv_sec = static_cast<time_t>(mtime_ns / kNanosPerSecond);
  times[1].tv_nsec = static_cast<long>(mtime_ns % kNanosPerSecond);
  if (times[1].tv_nsec < 0) {  // before 1970
    times[1].tv_nsec += kNanosPerSecond;
    times[1].tv_sec -= 1;
  }
}

class PosixFile final : public File {
 public:
  PosixFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~PosixFile() override {
    if (fd_ >= 0) ::close(fd_);
  }

  absl::StatusOr<size_t> PRead(uint64_t offset, void* data, size_t n) override {
    char* p = static_cast<char*>(data);
    size_t done = 0;
    while (done < n) {
      const ssize_t r = ::pread(fd_, p + done, n - done, static_cast<off_t>(offset + done));
      if (r < 0) {
        if (errno == EINTR) continue;
        return Errno("cannot read", path_);
      }
      if (r == 0) break;  // end of file
      done += static_cast<size_t>(r);
    }
    return done;
  }

  absl::Status PWrite(uint64_t offset, const void* data, size_t n) override {
    const char* p = static_cast<const char*>(data);
    size_t done = 0;
    while (done < n) {
      const ssize_t r = ::pwrite(fd_, p + done, n - done, static_cast<off_t>(offset + done));
      if (r < 0) {
        if (errno == EINTR) continue;
        return Errno("cannot write", path_);
      }
      done += static_cast<size_t>(r);
    }
    return absl::OkStatus();
  }

  absl::Status CopyRangeFrom(File& from, uint64_t offset, size_t n) override {
    auto* source = dynamic_cast<PosixFile*>(&from);
    if (source == nullptr) return File::CopyRangeFrom(from, offset, n);
    loff_t in = static_cast<loff_t>(offset);
    loff_t out = in;
    for (size_t done = 0; done < n;) {
      const ssize_t r = ::copy_file_range(source->fd_, &in, fd_, &out, n - done, 0);
      if (r < 0) {
        if (errno == EINTR) continue;
        // Filesystems or a kernel that cannot copy between these two files: nothing written.
        if (done == 0 && (errno == EXDEV || errno == EOPNOTSUPP || errno == ENOSYS ||
                          errno == EINVAL || errno == EBADF)) {
          return File::CopyRangeFrom(from, offset, n);
        }
        return Errno(absl::StrCat("cannot copy from ", source->path_, " to"), path_);
      }
      if (r == 0) {
        return absl::FailedPreconditionError(
            absl::StrCat(source->path_, " ended at byte ", offset + done, " while ", offset + n,
                         " were being copied from it; it changed while it was being read"));
      }
      done += static_cast<size_t>(r);
    }
    return absl::OkStatus();
  }

  absl::StatusOr<FileInfo> Stat() override {
    struct stat st;
    if (::fstat(fd_, &st) != 0) return Errno("cannot stat", path_);
    return InfoOf(st);
  }

  absl::Status Sync() override {
    if (::fsync(fd_) != 0) return Errno("cannot fsync", path_);
    return absl::OkStatus();
  }

  void StartWriteback(uint64_t offset, size_t n) override {
    ::sync_file_range(fd_, static_cast<off_t>(offset), static_cast<off_t>(n),
                      SYNC_FILE_RANGE_WRITE);
  }

  absl::Status SetMode(uint32_t mode) override {
    if (::fchmod(fd_, static_cast<mode_t>(mode)) != 0) {
      return Errno("cannot change the mode of", path_);
    }
    return absl::OkStatus();
  }

  absl::Status SetMtime(int64_t mtime_ns) override {
    struct timespec times[2];
    MtimeTimes(mtime_ns, times);
    if (::futimens(fd_, times) != 0) return Errno("cannot set the modification time of", path_);
    return absl::OkStatus();
  }

  absl::Status Close() override {
    if (fd_ < 0) return absl::OkStatus();
    const int fd = std::exchange(fd_, -1);
    // Linux closes the descriptor even when close fails; never retry it.
    if (::close(fd) != 0 && errno != EINTR) return Errno("cannot close", path_);
    return absl::OkStatus();
  }

 private:
  int fd_;
  std::string path_;
};

}  // namespace

void File::StartWriteback(uint64_t, size_t) {}

absl::Status File::CopyRangeFrom(File&, uint64_t, size_t) {
  return absl::UnimplementedError("this file cannot copy from another in the kernel");
}

const char* FileTypeName(FileType type) {
  switch (type) {
    case FileType::kRegular:
      return "regular file";
    case FileType::kDirectory:
      return "directory";
    case FileType::kSymlink:
      return "symbolic link";
    case FileType::kFifo:
      return "fifo";
    case FileType::kSocket:
      return "socket";
    case FileType::kCharDevice:
      return "character device";
    case FileType::kBlockDevice:
      return "block device";
    case FileType::kUnknown:
      break;
  }
  return "file of unknown type";
}

absl::Status ErrnoStatus(int err, absl::string_view action, const std::string& path) {
  const std::string what = absl::StrCat(action, " ", path, ": ", std::strerror(err));
  switch (err) {
    case ENOENT:
      return absl::NotFoundError(absl::StrCat(what, "; check that the path exists"));
    case ENOSPC:
      return absl::ResourceExhaustedError(absl::StrCat("destination full: ", what,
                                                       "; free space on the filesystem of ", path,
                                                       " or stage to another directory"));
    case EDQUOT:
      return absl::ResourceExhaustedError(
          absl::StrCat("destination full: ", what,
                       "; free space within your quota on the "
                       "filesystem of ",
                       path,
                       ", ask for a larger quota, or stage to another "
                       "directory"));
    case EACCES:
    case EPERM:
      return absl::PermissionDeniedError(absl::StrCat(what, "; check the permissions of ", path,
                                                      " and of the directories above it"));
    case EROFS:
      return absl::FailedPreconditionError(
          absl::StrCat(what, "; the filesystem is read-only: stage to a writable directory"));
    case ELOOP:
      return absl::FailedPreconditionError(absl::StrCat(
          what, "; it is a symbolic link (or a loop of them), which staging does not follow"));
    case ENOTDIR:
      return absl::FailedPreconditionError(
          absl::StrCat(what, "; a component of the path is not a directory"));
    case EISDIR:
      return absl::FailedPreconditionError(absl::StrCat(what, "; it is a directory"));
    case EEXIST:
      return absl::AlreadyExistsError(what);
    case ENOTEMPTY:
      return absl::FailedPreconditionError(absl::StrCat(what, "; the directory is not empty"));
    case EMFILE:
    case ENFILE:
      return absl::ResourceExhaustedError(absl::StrCat(
          what, "; raise the limit of open files (ulimit -n) or use fewer io_threads"));
    case ENAMETOOLONG:
      return absl::InvalidArgumentError(absl::StrCat(what, "; use a shorter path"));
    case EIO:
      return absl::DataLossError(
          absl::StrCat(what, "; the storage reported an I/O error: check the device or server"));
    case ENOMEM:
      return absl::ResourceExhaustedError(what);
    default:
      return absl::InternalError(what);
  }
}

absl::StatusOr<FileInfo> PosixFileSystem::Lstat(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return Errno("cannot stat", path);
  return InfoOf(st);
}

absl::StatusOr<std::string> PosixFileSystem::RealPath(const std::string& path) {
  char* resolved = ::realpath(path.c_str(), nullptr);
  if (resolved == nullptr) return Errno("cannot resolve", path);
  std::string out(resolved);
  ::free(resolved);
  return out;
}

absl::StatusOr<std::unique_ptr<File>> PosixFileSystem::OpenForRead(const std::string& path) {
  // O_NONBLOCK: a fifo put there after the walk must not block the open; it is refused below.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open", path);
  auto file = std::make_unique<PosixFile>(fd, path);
  ASSIGN_OR_RETURN(const FileInfo info, file->Stat());
  if (info.type != FileType::kRegular) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, " is a ", FileTypeName(info.type), ", not a regular file"));
  }
  // Staging reads every file from its start to its end: twice the read-ahead (as cp asks).
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  return std::unique_ptr<File>(std::move(file));
}

absl::StatusOr<std::unique_ptr<File>> PosixFileSystem::Create(const std::string& path,
                                                              uint32_t mode) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
                        static_cast<mode_t>(mode));
  if (fd < 0) return Errno("cannot create", path);
  return std::unique_ptr<File>(std::make_unique<PosixFile>(fd, path));
}

absl::StatusOr<std::vector<std::string>> PosixFileSystem::ReadDir(const std::string& path) {
  DIR* dir = ::opendir(path.c_str());
  if (dir == nullptr) return Errno("cannot read directory", path);
  std::vector<std::string> names;
  for (;;) {
    errno = 0;
    const dirent* e = ::readdir(dir);
    if (e == nullptr) break;
    const char* n = e->d_name;
    if (n[0] == '.' && (n[1] == '\0' || (n[1] == '.' && n[2] == '\0'))) continue;
    names.emplace_back(n);
  }
  const int err = errno;
  ::closedir(dir);
  if (err != 0) return ErrnoStatus(err, "cannot read directory", path);
  return names;
}

absl::StatusOr<std::string> PosixFileSystem::ReadLink(const std::string& path) {
  std::string target(256, '\0');
  for (;;) {
    const ssize_t n = ::readlink(path.c_str(), target.data(), target.size());
    if (n < 0) return Errno("cannot read the symbolic link", path);
    if (static_cast<size_t>(n) < target.size()) {
      target.resize(static_cast<size_t>(n));
      return target;
    }
    target.resize(target.size() * 2);  // possibly truncated: read again with more room
  }
}

absl::Status PosixFileSystem::MakeDir(const std::string& path, uint32_t mode) {
  if (::mkdir(path.c_str(), static_cast<mode_t>(mode)) != 0) {
    return Errno("cannot create directory", path);
  }
  return absl::OkStatus();
}

absl::Status PosixFileSystem::Symlink(const std::string& target, const std::string& path) {
  if (::symlink(target.c_str(), path.c_str()) != 0) {
    return Errno("cannot create symbolic link", path);
  }
  return absl::OkStatus();
}

absl::Status PosixFileSystem::Rename(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) {
    return Errno(absl::StrCat("cannot rename ", from, " to"), to);
  }
  return absl::OkStatus();
}

absl::Status PosixFileSystem::Exchange(const std::string& a, const std::string& b) {
  if (::renameat2(AT_FDCWD, a.c_str(), AT_FDCWD, b.c_str(), RENAME_EXCHANGE) != 0) {
    const int err = errno;
    if (err == EINVAL || err == ENOSYS || err == EOPNOTSUPP) {
      return absl::UnimplementedError(absl::StrCat("cannot exchange ", a, " and ", b, ": ",
                                                   std::strerror(err),
                                                   " (the filesystem has no RENAME_EXCHANGE)"));
    }
    return ErrnoStatus(err, absl::StrCat("cannot exchange ", a, " and"), b);
  }
  return absl::OkStatus();
}

absl::Status PosixFileSystem::Unlink(const std::string& path) {
  if (::unlink(path.c_str()) != 0) return Errno("cannot remove", path);
  return absl::OkStatus();
}

absl::Status PosixFileSystem::RemoveDir(const std::string& path) {
  if (::rmdir(path.c_str()) != 0) return Errno("cannot remove directory", path);
  return absl::OkStatus();
}

absl::Status PosixFileSystem::Chmod(const std::string& path, uint32_t mode) {
  // chmod follows symlinks; make sure there is none to follow.
  ASSIGN_OR_RETURN(const FileInfo info, Lstat(path));
  if (info.type == FileType::kSymlink) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot change the mode of ", path, ": it is a symbolic link"));
  }
  if (::chmod(path.c_str(), static_cast<mode_t>(mode)) != 0) {
    return Errno("cannot change the mode of", path);
  }
  return absl::OkStatus();
}

absl::Status PosixFileSystem::SetMtime(const std::string& path, int64_t mtime_ns) {
  struct timespec times[2];
  MtimeTimes(mtime_ns, times);
  if (::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) {
    return Errno("cannot set the modification time of", path);
  }
  return absl::OkStatus();
}

absl::Status PosixFileSystem::SyncDir(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open directory", path);
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return ErrnoStatus(err, "cannot fsync directory", path);
  return absl::OkStatus();
}

absl::Status RemoveTree(FileSystem& fs, const std::string& path) {
  absl::StatusOr<FileInfo> info = fs.Lstat(path);
  if (absl::IsNotFound(info.status())) return absl::OkStatus();
  if (!info.ok()) return info.status();
  if (info->type != FileType::kDirectory) {
    absl::Status st = fs.Unlink(path);
    return absl::IsNotFound(st) ? absl::OkStatus() : st;
  }
  // A read-only directory (a staged copy of one) cannot lose its entries until it is writable.
  if ((info->mode & 0700) != 0700) RETURN_IF_ERROR(fs.Chmod(path, info->mode | 0700));
  ASSIGN_OR_RETURN(const std::vector<std::string> names, fs.ReadDir(path));
  for (const std::string& name : names) RETURN_IF_ERROR(RemoveTree(fs, path + "/" + name));
  absl::Status st = fs.RemoveDir(path);
  return absl::IsNotFound(st) ? absl::OkStatus() : st;
}

absl::Status MakeDirs(FileSystem& fs, const std::string& path, uint32_t mode) {
  for (size_t end = path.find('/', 1);; end = path.find('/', end + 1)) {
    const std::string prefix = path.substr(0, end);
    absl::Status st = fs.MakeDir(prefix, mode);
    if (!st.ok() && !absl::IsAlreadyExists(st)) return st;
    if (end == std::string::npos) return absl::OkStatus();
  }
}

}  // namespace drocc::runtime
