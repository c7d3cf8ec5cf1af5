#pragma once

// How drocc shows the quota model: balances, usage, grants, limits and job estimates, each as
// text for people (a table or a line), JSON for programs and, for usage, CSV. Pure: every
// function returns what to print.
//
// JSON amounts carry the exact integer (`*_milli`) and the same amount as a decimal string
// ("12.5"); tables print amounts with their unit ("12.5 gpu-hours"); CSV as a plain decimal.

#include <google/protobuf/repeated_ptr_field.h>

#include <string>

#include "drocc/v1/job.pb.h"
#include "drocc/v1/project.pb.h"
#include "nlohmann/json.hpp"

namespace drocc::cli {

template <typename T>
using Repeated = google::protobuf::RepeatedPtrField<T>;

// `drocc balance`: one row per project and resource. OVERDRAFT and NOT YET VALID columns only
// when some row has one; a note under the table for amounts expiring within 30 days.
std::string BalanceTable(const Repeated<v1::Balance>& balances);
nlohmann::json BalanceJson(const Repeated<v1::Balance>& balances);

// Usage rows: USER and MONTH columns in the table only when the rows are broken down so; an
// empty user or month in such a table (a total) shows as "(all)".
std::string UsageTable(const Repeated<v1::UsageRow>& rows);
// Header "project,user,month,resource,amount,jobs"; amount as a plain decimal ("1.25").
std::string UsageCsv(const Repeated<v1::UsageRow>& rows);
// [{project, user, month, resource, amount_milli, amount, jobs}]; user and month null when
// the rows are not broken down by them.
nlohmann::json UsageJson(const Repeated<v1::UsageRow>& rows);

std::string GrantTable(const Repeated<v1::Grant>& grants);
// "grant 7: 2.0 gpu-hours for project ml, valid 2026-11-01 01:00:00 until ..., reference X"
std::string GrantSummary(const v1::Grant& grant);
nlohmann::json GrantJson(const v1::Grant& grant);
nlohmann::json GrantsJson(const Repeated<v1::Grant>& grants);

std::string LimitTable(const Repeated<v1::Limit>& limits);
// "limits of project ml, user alice: GPUs 8, CPUs no limit, ..."
std::string LimitSummary(const v1::Limit& limit);
nlohmann::json LimitJson(const v1::Limit& limit);

// `drocc estimate`.
std::string EstimateText(const v1::EstimateJobResponse& estimate);
nlohmann::json EstimateJson(const v1::EstimateJobResponse& estimate);

}  // namespace drocc::cli
