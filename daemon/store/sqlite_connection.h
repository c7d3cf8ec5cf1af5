#pragma once

// A thin layer over the SQLite C API for the store: one connection with its cached prepared
// statements, a statement guard, and the mapping of SQLite errors to statuses that say what
// to do. sqlite3.h stays in the .cc files so that no other component sees it.

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include "absl/strings/string_view.h"

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

struct sqlite3;
struct sqlite3_stmt;

namespace drocc::store {

// Maps an SQLite result code (primary or extended, from sqlite3.h) about the database at
// `path` to a status whose message says what went wrong and what to do. `detail` is
// SQLite's own message. Examples: disk full → RESOURCE_EXHAUSTED; locked beyond the busy
// timeout → UNAVAILABLE; corrupt or not a database → DATA_LOSS.
absl::Status SqliteStatus(int code, absl::string_view path, absl::string_view detail);

struct ConnectionOptions {
  absl::Duration busy_timeout = absl::Seconds(5);
  bool create = true;      // create the file if missing
  bool read_only = false;  // PRAGMA query_only: refuses every write
};

class Statement;

// One SQLite connection. Not thread-safe: use it from one thread at a time (the owner
// guards it). Statements from Prepare() are cached for the connection's life.
class Connection {
 public:
  // Opens `path` with foreign keys on and the busy timeout set. The journal mode and the
  // synchronous level are the owner's choice (see SqliteStore::Open).
  static absl::StatusOr<std::unique_ptr<Connection>> Open(const std::string& path,
                                                          const ConnectionOptions& options);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs one or more statements that return no rows (or whose rows are ignored).
  absl::Status Exec(absl::string_view sql);
  // A prepared statement for `sql`, compiled on first use and cached. Only one Statement per
  // `sql` may be live at a time.
  absl::StatusOr<Statement> Prepare(absl::string_view sql);

  // False when no transaction is open, e.g. after SQLite rolled one back on its own after
  // an I/O error, disk full or out of memory.
  bool InTransaction() const;
  // Copies this database, as one consistent snapshot, into `dest` (SQLite's online backup;
  // writers on other connections go on meanwhile).
  absl::Status BackupTo(Connection& dest);
  int64_t LastInsertId() const;
  int64_t Changes() const;  // rows changed by the last INSERT/UPDATE/DELETE

  // The status for result code `rc` from a call on this connection, with `what` (what was
  // being done) and SQLite's message.
  absl::Status Error(int rc, absl::string_view what) const;
  const std::string& path() const { return path_; }

 private:
  Connection(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}

  sqlite3* db_;
  std::string path_;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
};

// A cached statement in use. Bind with 1-based indexes (SQLite's convention), Step, read
// columns with 0-based indexes. Resets on destruction, which ends the statement's read of
// the database (a statement left open would pin an old snapshot).
class Statement {
 public:
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&&) = delete;
  ~Statement();

  Statement& Bind(int index, int64_t value);
  Statement& Bind(int index, absl::string_view value);
  Statement& BindNull(int index);
  // NULL for absl::InfinitePast() (unset), else integer microseconds since the epoch.
  Statement& BindTime(int index, absl::Time value);

  // True when a row is ready, false when the statement is done.
  absl::StatusOr<bool> Step();
  // Steps to the end, ignoring rows.
  absl::Status Run();

  bool IsNull(int col) const;
  int64_t Int(int col) const;
  std::string Text(int col) const;
  absl::Time Time(int col) const;  // NULL → absl::InfinitePast()

 private:
  friend class Connection;
  Statement(const Connection* conn, sqlite3_stmt* stmt) : conn_(conn), stmt_(stmt) {}
  void Check(int rc);

  const Connection* conn_;
  sqlite3_stmt* stmt_;
  int bind_rc_ = 0;  // the first failed bind (SQLITE_OK = 0 when none), reported by Step
};

}  // namespace drocc::store
