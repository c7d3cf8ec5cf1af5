#pragma once

// The SQL of SqliteStore's service tokens (schema in migrations.cc, version 6). Like
// job_table.h, the caller owns the connection and the transaction.

#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "daemon/store/sqlite_connection.h"
#include "daemon/store/store.h"

namespace drocc::store {

// Store::PutServiceToken's body, audit included.
absl::Status PutServiceTokenRow(Connection& conn, const ServiceTokenRecord& token,
                                const AuditRecord& audit);

absl::StatusOr<std::vector<ServiceTokenRecord>> SelectServiceTokens(Connection& conn);

}  // namespace drocc::store
