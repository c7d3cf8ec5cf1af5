#pragma once

// The SQL of SqliteStore's charges table: the draws of settled jobs from grants (and
// overdraft), and the usage reports summed from them (schema in migrations.cc). Like
// job_table.h, the caller owns the connection and the transaction.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "daemon/queue/job.h"
#include "daemon/store/sqlite_connection.h"
#include "daemon/store/store.h"

namespace drocc::store {

// One charges row per record, stamped with the job's project, user and end `time`.
absl::Status InsertChargeRows(Connection& conn, queue::JobId job, const std::string& project,
                              const std::string& user, absl::Time time,
                              const std::vector<queue::ChargeRecord>& charges);

// Sum charged from grant `id` per resource; empty if it never was.
absl::StatusOr<queue::AmountMap> SelectChargedFrom(Connection& conn, uint64_t id);

// The reads of Store, same contracts.
absl::StatusOr<std::vector<UsageRow>> SelectUsage(Connection& conn, const UsageQuery& query);
absl::StatusOr<std::vector<ChargeTotal>> SelectChargeTotals(Connection& conn);
absl::StatusOr<std::vector<UsageEvent>> SelectUsageSince(Connection& conn, absl::Time since);

}  // namespace drocc::store
