#pragma once

// Mapping between the quota model (daemon/quota, daemon/manager/quota_book.h) and the
// drocc.v1 project and admin messages.

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "daemon/manager/quota_book.h"
#include "daemon/quota/ledger.h"
#include "daemon/quota/model.h"
#include "daemon/store/store.h"
#include "drocc/v1/admin.pb.h"
#include "drocc/v1/project.pb.h"

namespace drocc::api {

void ToProto(const quota::Account& a, v1::Account* out);
void ToProto(const quota::Project& p, v1::Project* out);
void ToProto(const quota::Member& m, v1::Member* out);
void ToProto(const quota::Limit& l, v1::Limit* out);
void ToProto(const quota::GrantStatus& g, const quota::ResourceCatalog& catalog, v1::Grant* out);
void ToProto(const store::AuditRecord& r, v1::AuditEvent* out);
void ToProto(const store::UsageRow& r, v1::UsageRow* out);
// One project's position in one resource.
void ToProto(const std::string& project, const std::string& resource,
             const quota::ResourceBalance& b, absl::Time next_expiry, v1::Balance* out);

// INVALID_ARGUMENT with what to fix for unknown enum values and resources.
absl::StatusOr<quota::Account> FromProto(const v1::Account& a);
absl::StatusOr<quota::Project> FromProto(const v1::Project& p);
absl::StatusOr<quota::Member> FromProto(const v1::Member& m);
absl::StatusOr<quota::Limit> FromProto(const v1::Limit& l);
// An unset valid_from is the start of `now`'s day (UTC); an unset valid_until never ends.
absl::StatusOr<quota::Grant> FromProto(const v1::Grant& g, const quota::ResourceCatalog& catalog,
                                       absl::Time now);

// Appends `project`'s balance in every resource it holds or held a grant in.
void AddBalances(const manager::QuotaBook& book, const std::string& project, absl::Time now,
                 google::protobuf::RepeatedPtrField<v1::Balance>* out);

// Fills the range and grouping of a usage query; INVALID_ARGUMENT for an empty range.
absl::Status ToUsageQuery(const v1::TimeRange& range, bool per_user, bool per_month,
                          store::UsageQuery& q);

}  // namespace drocc::api
