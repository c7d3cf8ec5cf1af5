#pragma once

// The job database schema, as numbered migrations. PRAGMA user_version holds the number of
// the last migration applied; each migration runs in its own transaction, so a crash leaves
// the database at one version or the next, never in between. A database whose version is
// newer than kSchemaVersion was written by a newer droccd and is refused, not guessed at.
//
// To change the schema, append a migration; never edit one that has shipped.

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "daemon/store/sqlite_connection.h"

namespace drocc::store {

// The schema version this code reads and writes.
inline constexpr int kSchemaVersion = 6;

absl::StatusOr<int> ReadSchemaVersion(Connection& conn);

// FAILED_PRECONDITION, saying what to do, if a newer droccd wrote the database (its version
// is above kSchemaVersion). Only reads: SqliteStore::Open checks this before it changes
// anything in the file, its journal mode included, so the newer droccd finds it as it was.
absl::Status CheckNotNewer(Connection& conn);

// Applies the migrations after the database's version, up to `target`. FAILED_PRECONDITION
// if the database is newer than kSchemaVersion or than `target`.
// Production always migrates to kSchemaVersion (SqliteStore::Open). TEST-ONLY: a lower
// `target` builds a database as an older droccd left it, for the migration tests.
absl::Status Migrate(Connection& conn, int target = kSchemaVersion);

}  // namespace drocc::store
