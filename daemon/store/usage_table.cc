#include "daemon/store/usage_table.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "nlohmann/json.hpp"

namespace drocc::store {

absl::Status InsertChargeRows(Connection& conn, queue::JobId job, const std::string& project,
                              const std::string& user, absl::Time time,
                              const std::vector<queue::ChargeRecord>& charges) {
  for (const queue::ChargeRecord& c : charges) {
    ASSIGN_OR_RETURN(Statement stmt, conn.Prepare(R"sql(
        INSERT INTO charges (job_id, grant_id, resource, milli, project, user, time)
        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7))sql"));
    stmt.Bind(1, static_cast<int64_t>(job))
        .Bind(2, static_cast<int64_t>(c.grant_id))
        .Bind(3, c.resource)
        .Bind(4, c.milli)
        .Bind(5, project)
        .Bind(6, user)
        .BindTime(7, time);
    RETURN_IF_ERROR(stmt.Run());
  }
  return absl::OkStatus();
}

absl::StatusOr<queue::AmountMap> SelectChargedFrom(Connection& conn, uint64_t id) {
  ASSIGN_OR_RETURN(Statement stmt, conn.Prepare("SELECT resource, sum(milli) FROM charges "
                                                "WHERE grant_id = ?1 GROUP BY resource"));
  stmt.Bind(1, static_cast<int64_t>(id));
  queue::AmountMap charged;
  while (true) {
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return charged;
    charged[stmt.Text(0)] = stmt.Int(1);
  }
}

absl::StatusOr<std::vector<UsageRow>> SelectUsage(Connection& conn, const UsageQuery& query) {
  // Columns 2 and 3 are constants unless asked for, so GROUP BY 1, 2, 3, 4 groups by what was
  // asked. A charge's time is its job's end. Eight shapes at most for the statement cache: the
  // project list is one JSON parameter.
  const bool projects = !query.projects.empty();
  const bool from = query.from != absl::InfinitePast();
  const bool until = query.until != absl::InfiniteFuture();
  std::string sql = absl::StrCat(
      "SELECT project, ", query.per_user ? "user" : "''", ", ",
      query.per_month ? "coalesce(strftime('%Y-%m', time / 1000000, 'unixepoch'), '')" : "''",
      ", resource, sum(milli), count(DISTINCT job_id) FROM charges WHERE 1");
  int n = 0;
  if (projects) absl::StrAppend(&sql, " AND project IN (SELECT value FROM json_each(?", ++n, "))");
  if (from) absl::StrAppend(&sql, " AND time >= ?", ++n);
  // An unset time (NULL) is before any bound, as absl::InfinitePast() is.
  if (until) absl::StrAppend(&sql, " AND (time IS NULL OR time < ?", ++n, ")");
  absl::StrAppend(&sql, " GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4");

  ASSIGN_OR_RETURN(Statement stmt, conn.Prepare(sql));
  n = 0;
  if (projects) {
    stmt.Bind(++n, nlohmann::json(query.projects)
                       .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }
  if (from) stmt.Bind(++n, absl::ToUnixMicros(query.from));
  if (until) stmt.Bind(++n, absl::ToUnixMicros(query.until));
  std::vector<UsageRow> rows;
  while (true) {
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return rows;
    rows.push_back({.project = stmt.Text(0),
                    .user = stmt.Text(1),
                    .month = stmt.Text(2),
                    .resource = stmt.Text(3),
                    .milli = stmt.Int(4),
                    .jobs = static_cast<uint32_t>(stmt.Int(5))});
  }
}

absl::StatusOr<std::vector<ChargeTotal>> SelectChargeTotals(Connection& conn) {
  ASSIGN_OR_RETURN(Statement stmt, conn.Prepare(R"sql(
      SELECT grant_id, project, resource, sum(milli) FROM charges
      GROUP BY grant_id, project, resource ORDER BY grant_id, project, resource)sql"));
  std::vector<ChargeTotal> totals;
  while (true) {
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return totals;
    totals.push_back({.grant_id = static_cast<uint64_t>(stmt.Int(0)),
                      .project = stmt.Text(1),
                      .resource = stmt.Text(2),
                      .milli = stmt.Int(3)});
  }
}

absl::StatusOr<std::vector<UsageEvent>> SelectUsageSince(Connection& conn, absl::Time since) {
  // A job's charges are written together, with one project and one time: grouping by them too
  // only names them in the result.
  const bool bounded = since != absl::InfinitePast();
  ASSIGN_OR_RETURN(Statement stmt,
                   conn.Prepare(absl::StrCat("SELECT project, resource, sum(milli), time "
                                             "FROM charges",
                                             bounded ? " WHERE time >= ?1" : "",
                                             " GROUP BY job_id, project, resource, time "
                                             "ORDER BY time, job_id, resource")));
  if (bounded) stmt.Bind(1, absl::ToUnixMicros(since));
  std::vector<UsageEvent> events;
  while (true) {
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return events;
    events.push_back({.project = stmt.Text(0),
                      .resource = stmt.Text(1),
                      .milli = stmt.Int(2),
                      .time = stmt.Time(3)});
  }
}

}  // namespace drocc::store
