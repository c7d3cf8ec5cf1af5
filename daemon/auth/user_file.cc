#include "daemon/auth/user_file.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"

namespace drocc::auth {
namespace {

// Switches the calling thread's filesystem identity and restores it on destruction. Raw
// syscalls: glibc's setgroups() would change every thread of the process.
class ThreadFsIdentity {
 public:
  explicit ThreadFsIdentity(const UserInfo& user) {
    int n = getgroups(0, nullptr);
    saved_groups_.resize(n > 0 ? n : 0);
    if (n > 0) getgroups(n, saved_groups_.data());
    saved_uid_ = setfsuid(static_cast<uid_t>(-1));
    saved_gid_ = setfsgid(static_cast<gid_t>(-1));
    std::vector<gid_t> groups(user.groups.begin(), user.groups.end());
    ok_ = syscall(SYS_setgroups, groups.size(), groups.data()) == 0;
    setfsgid(user.gid);
    setfsuid(user.uid);
    ok_ = ok_ && static_cast<uid_t>(setfsuid(static_cast<uid_t>(-1))) == user.uid &&
          static_cast<gid_t>(setfsgid(static_cast<gid_t>(-1))) == user.gid;
  }
  ~ThreadFsIdentity() {
    setfsuid(saved_uid_);
    setfsgid(saved_gid_);
    syscall(SYS_setgroups, saved_groups_.size(), saved_groups_.data());
  }
  bool ok() const { return ok_; }

 private:
  std::vector<gid_t> saved_groups_;
  uid_t saved_uid_ = 0;
  gid_t saved_gid_ = 0;
  bool ok_ = false;
};

}  // namespace

absl::StatusOr<int> OpenForUser(const std::string& path, const UserInfo& user) {
  if (path.empty() || path[0] != '/') {
    return absl::InvalidArgumentError(absl::StrCat("\"", path, "\" is not an absolute path"));
  }
  int fd = -1;
  int err = 0;
  {
    ThreadFsIdentity as_user(user);
    if (!as_user.ok()) {
      return absl::InternalError("cannot take the file owner's identity to open the file");
    }
    open_how how{};
    how.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
    how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    fd = static_cast<int>(syscall(SYS_openat2, AT_FDCWD, path.c_str(), &how, sizeof(how)));
    err = errno;
  }
  if (fd >= 0) {
    // Only regular files: a FIFO or device named as output must not block or leak.
    struct stat st {};
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      close(fd);
      return absl::PermissionDeniedError(absl::StrCat("\"", path, "\" is not a regular file"));
    }
    int flags = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    return fd;
  }
  switch (err) {
    case ENOENT:
      return absl::NotFoundError(absl::StrCat("\"", path, "\" does not exist (yet)"));
    case ELOOP:
      return absl::PermissionDeniedError(
          absl::StrCat("\"", path,
                       "\" goes through a symbolic link; drocc does not follow links "
                       "when reading job output"));
    case EACCES:
    case EPERM:
      return absl::PermissionDeniedError(
          absl::StrCat("user ", user.name, " may not read \"", path, "\""));
    default:
      return absl::InternalError(absl::StrCat("cannot open \"", path, "\": ", std::strerror(err)));
  }
}

}  // namespace drocc::auth
