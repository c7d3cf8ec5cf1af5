#pragma once

// The SQL of SqliteStore's quota configuration and audit log: the accounts, projects,
// members, grants, limits and audit tables (schema in migrations.cc). Like job_table.h, the
// caller owns the connection and the transaction.

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "daemon/store/sqlite_connection.h"
#include "daemon/store/store.h"

namespace drocc::store {

// Store::ApplyQuotaChanges' body (quota_changes.h), audit included. On error the caller rolls
// back: rows may have been written before the refusal.
absl::StatusOr<uint64_t> ApplyQuotaChangeRows(Connection& conn,
                                              const std::vector<QuotaChange>& changes,
                                              const AuditRecord& audit);

// Store::AppendAudit's body.
absl::Status InsertAuditRow(Connection& conn, AuditRecord audit);

// The reads of Store, same contracts. SelectQuotaModel makes several queries: run it in a read
// transaction for a consistent answer.
absl::StatusOr<QuotaModel> SelectQuotaModel(Connection& conn);
absl::StatusOr<std::vector<AuditRecord>> SelectAudit(Connection& conn, const AuditFilter& filter);

}  // namespace drocc::store
