#include "daemon/store/sqlite_connection.h"

#include <sqlite3.h>

#include <cerrno>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace drocc::store {
namespace {

std::string Where(absl::string_view path) { return absl::StrCat("job database \"", path, "\""); }

}  // namespace

absl::Status SqliteStatus(int code, absl::string_view path, absl::string_view detail) {
  const std::string db = Where(path);
  // SQLite's message often is the code's description already; say it once.
  const absl::string_view errstr = sqlite3_errstr(code);
  const std::string why = detail.empty()                   ? std::string(errstr)
                          : absl::EndsWith(detail, errstr) ? std::string(detail)
                                                           : absl::StrCat(detail, "; ", errstr);
  switch (code & 0xff) {
    case SQLITE_OK:
      return absl::OkStatus();
    case SQLITE_FULL:
      return absl::ResourceExhaustedError(absl::StrCat(
          db, ": the disk is full (", why, "); free space on its filesystem, then retry"));
    case SQLITE_NOMEM:
      return absl::ResourceExhaustedError(
          absl::StrCat(db, ": out of memory (", why, "); droccd needs more memory"));
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return absl::UnavailableError(
          absl::StrCat(db, " stayed locked by another connection beyond the busy timeout (", why,
                       "); is a second droccd or an sqlite3 shell using it? Retry later"));
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return absl::DataLossError(
          absl::StrCat(db, " is corrupt or not a drocc database (", why,
                       "); stop droccd and restore the database from backup"));
    case SQLITE_IOERR:
      return absl::UnavailableError(absl::StrCat(
          db, ": I/O error (", why, "); check the disk and the kernel log (dmesg), then retry"));
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
      return absl::PermissionDeniedError(
          absl::StrCat(db, " cannot be written (", why,
                       "); droccd's user needs write access to the file and its directory"));
    case SQLITE_CANTOPEN:
      return absl::UnavailableError(absl::StrCat("cannot open ", db, " (", why,
                                                 "); check that it is a file droccd may "
                                                 "read and write, in a directory it may write"));
    case SQLITE_CONSTRAINT:
      if (code == SQLITE_CONSTRAINT_UNIQUE || code == SQLITE_CONSTRAINT_PRIMARYKEY) {
        return absl::AlreadyExistsError(
            absl::StrCat(db, ": a unique key already exists (", why, ")"));
      }
      return absl::InternalError(absl::StrCat(db, ": a constraint failed (", why, ")"));
    case SQLITE_TOOBIG:
      return absl::InvalidArgumentError(
          absl::StrCat(db, ": a value is too large to store (", why, "); make the job smaller"));
    default:
      return absl::InternalError(absl::StrCat(db, ": SQLite error (", why, ")"));
  }
}

absl::StatusOr<std::unique_ptr<Connection>> Connection::Open(const std::string& path,
                                                             const ConnectionOptions& options) {
  sqlite3* db = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
  if (options.create) flags |= SQLITE_OPEN_CREATE;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, /*zVfs=*/nullptr);
  if (rc != SQLITE_OK) {
    const int err = db != nullptr ? sqlite3_system_errno(db) : 0;
    std::string detail = db != nullptr ? sqlite3_errmsg(db) : "";
    sqlite3_close_v2(db);  // a no-op on nullptr
    if ((rc & 0xff) == SQLITE_CANTOPEN && err == ENOENT) {
      return absl::NotFoundError(
          absl::StrCat("cannot open ", Where(path), ": no such file or directory"));
    }
    if ((rc & 0xff) == SQLITE_CANTOPEN && err == EACCES) {
      return absl::PermissionDeniedError(
          absl::StrCat("cannot open ", Where(path),
                       ": permission denied; droccd's user needs read and write access to the "
                       "file and its directory"));
    }
    return SqliteStatus(rc, path, detail);
  }
  sqlite3_extended_result_codes(db, 1);
  std::unique_ptr<Connection> conn(new Connection(db, path));
  sqlite3_busy_timeout(db, static_cast<int>(absl::ToInt64Milliseconds(options.busy_timeout)));
  if (absl::Status s = conn->Exec("PRAGMA foreign_keys = ON"); !s.ok()) return s;
  if (options.read_only) {
    if (absl::Status s = conn->Exec("PRAGMA query_only = ON"); !s.ok()) return s;
  }
  return conn;
}

Connection::~Connection() {
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
  sqlite3_close_v2(db_);
}

absl::Status Connection::Exec(absl::string_view sql) {
  char* msg = nullptr;
  int rc = sqlite3_exec(db_, std::string(sql).c_str(), nullptr, nullptr, &msg);
  if (rc == SQLITE_OK) return absl::OkStatus();
  std::string detail = msg != nullptr ? msg : "";
  sqlite3_free(msg);
  absl::string_view head = sql.substr(0, std::min<size_t>(sql.size(), 60));
  return SqliteStatus(rc, path_, absl::StrCat("running \"", head, "\": ", detail));
}

absl::StatusOr<Statement> Connection::Prepare(absl::string_view sql) {
  std::string key(sql);
  if (auto it = cache_.find(key); it != cache_.end()) return Statement(this, it->second);
  sqlite3_stmt* stmt = nullptr;
  const char* tail = nullptr;
  int rc = sqlite3_prepare_v3(db_, key.data(), static_cast<int>(key.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, &tail);
  if (rc != SQLITE_OK) return Error(rc, absl::StrCat("preparing \"", key, "\""));
  if (tail != nullptr && *tail != '\0') {
    sqlite3_finalize(stmt);
    return absl::InternalError(absl::StrCat("Prepare takes one statement: \"", key, "\""));
  }
  cache_.emplace(std::move(key), stmt);
  return Statement(this, stmt);
}

bool Connection::InTransaction() const { return sqlite3_get_autocommit(db_) == 0; }

absl::Status Connection::BackupTo(Connection& dest) {
  sqlite3_backup* b = sqlite3_backup_init(dest.db_, "main", db_, "main");
  if (b == nullptr) return dest.Error(sqlite3_errcode(dest.db_), "starting a backup");
  int rc = sqlite3_backup_step(b, -1);  // every page in one step: one snapshot
  sqlite3_backup_finish(b);
  if (rc != SQLITE_DONE) return dest.Error(rc, absl::StrCat("backing up ", Where(path_)));
  return absl::OkStatus();
}

int64_t Connection::LastInsertId() const { return sqlite3_last_insert_rowid(db_); }

int64_t Connection::Changes() const { return sqlite3_changes64(db_); }

absl::Status Connection::Error(int rc, absl::string_view what) const {
  return SqliteStatus(rc, path_, absl::StrCat(what, ": ", sqlite3_errmsg(db_)));
}

Statement::Statement(Statement&& other) noexcept
    : conn_(other.conn_), stmt_(std::exchange(other.stmt_, nullptr)), bind_rc_(other.bind_rc_) {}

Statement::~Statement() {
  if (stmt_ == nullptr) return;
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

void Statement::Check(int rc) {
  if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
}

Statement& Statement::Bind(int index, int64_t value) {
  Check(sqlite3_bind_int64(stmt_, index, value));
  return *this;
}

Statement& Statement::Bind(int index, absl::string_view value) {
  // SQLITE_TRANSIENT: SQLite copies the text, so `value` need not outlive the statement.
  Check(
      sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
  return *this;
}

Statement& Statement::BindNull(int index) {
  Check(sqlite3_bind_null(stmt_, index));
  return *this;
}

Statement& Statement::BindTime(int index, absl::Time value) {
  if (value == absl::InfinitePast()) return BindNull(index);
  return Bind(index, absl::ToUnixMicros(value));
}

absl::StatusOr<bool> Statement::Step() {
  if (bind_rc_ != SQLITE_OK) return conn_->Error(bind_rc_, "binding a parameter");
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return conn_->Error(rc, absl::StrCat("running \"", sqlite3_sql(stmt_), "\""));
}

absl::Status Statement::Run() {
  while (true) {
    absl::StatusOr<bool> row = Step();
    if (!row.ok()) return row.status();
    if (!*row) return absl::OkStatus();
  }
}

bool Statement::IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

int64_t Statement::Int(int col) const { return sqlite3_column_int64(stmt_, col); }

std::string Statement::Text(int col) const {
  const unsigned char* p = sqlite3_column_text(stmt_, col);
  if (p == nullptr) return "";
  return std::string(reinterpret_cast<const char*>(p),
                     static_cast<size_t>(sqlite3_column_bytes(stmt_, col)));
}

absl::Time Statement::Time(int col) const {
  if (IsNull(col)) return absl::InfinitePast();
  return absl::FromUnixMicros(Int(col));
}

}  // namespace drocc::store
