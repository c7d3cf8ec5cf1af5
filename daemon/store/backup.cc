// SqliteStore::Backup: an online copy of the database into a new file, published only once
// it is complete, checked and on disk.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "common/path_rule.h"
#include "common/status.h"
#include "daemon/store/sqlite_connection.h"
#include "daemon/store/sqlite_store.h"

namespace drocc::store {
namespace {

absl::Status Errno(absl::string_view what, const std::string& path) {
  return absl::InternalError(absl::StrCat(what, " ", path, ": ", std::strerror(errno)));
}

absl::Status CheckDestination(const std::string& dest) {
  if (dest.empty() || dest[0] != '/') {
    return absl::InvalidArgumentError(absl::StrCat(
        "the backup path \"", dest, "\" is not absolute; name a file on droccd's host"));
  }
  if (HasDotDot(dest)) {
    return absl::InvalidArgumentError(
        absl::StrCat("the backup path \"", dest, "\" contains \"..\"; write it without"));
  }
  std::error_code ec;
  if (std::filesystem::symlink_status(dest, ec).type() != std::filesystem::file_type::not_found) {
    return absl::AlreadyExistsError(
        absl::StrCat(dest, " exists; a backup never replaces a file: choose a new name"));
  }
  const std::filesystem::path dir = std::filesystem::path(dest).parent_path();
  if (!std::filesystem::is_directory(dir, ec)) {
    return absl::FailedPreconditionError(
        absl::StrCat("the directory ", dir.string(), " does not exist on droccd's host"));
  }
  return absl::OkStatus();
}

// Flushes `path` (a file or a directory) to disk.
absl::Status Sync(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open", path);
  const int rc = fsync(fd);
  close(fd);
  if (rc != 0) return Errno("cannot flush", path);
  return absl::OkStatus();
}

// The copy into `tmp`, checked.
absl::Status CopyInto(const std::string& db, const std::string& tmp) {
  ASSIGN_OR_RETURN(std::unique_ptr<Connection> src,
                   Connection::Open(db, {.create = false, .read_only = true}));
  ASSIGN_OR_RETURN(std::unique_ptr<Connection> dst, Connection::Open(tmp, {}));
  RETURN_IF_ERROR(src->BackupTo(*dst));
  ASSIGN_OR_RETURN(Statement check, dst->Prepare("PRAGMA quick_check"));
  ASSIGN_OR_RETURN(bool row, check.Step());
  if (!row || check.Text(0) != "ok") {
    return absl::DataLossError(absl::StrCat(
        "the backup in ", tmp, " fails SQLite's check: ", row ? check.Text(0) : "no answer"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<uint64_t> SqliteStore::Backup(const std::string& dest) {
  RETURN_IF_ERROR(CheckDestination(dest));
  // The copy is made under a temporary name, created here with owner-only access (the job
  // database is root's alone), and renamed into place without replacing anything.
  const std::string tmp = absl::StrCat(dest, ".partial-", getpid());
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return Errno("cannot create", tmp);
  close(fd);
  absl::Status s = CopyInto(options_.path, tmp);
  if (s.ok()) s = Sync(tmp);
  if (s.ok() && renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, dest.c_str(), RENAME_NOREPLACE) != 0) {
    s = errno == EEXIST ? absl::AlreadyExistsError(absl::StrCat(dest, " appeared meanwhile"))
                        : Errno("cannot rename the backup to", dest);
  }
  if (!s.ok()) {
    unlink(tmp.c_str());
    return s;
  }
  RETURN_IF_ERROR(Sync(std::filesystem::path(dest).parent_path().string()));
  struct stat st {};
  if (stat(dest.c_str(), &st) != 0) return Errno("cannot stat", dest);
  return static_cast<uint64_t>(st.st_size);
}

}  // namespace drocc::store
