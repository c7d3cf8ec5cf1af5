#pragma once

// How drocc prints: aligned tables for people, JSON for scripts (-o json), CSV for
// spreadsheets (-o csv, on the usage reports only).

#include <google/protobuf/timestamp.pb.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "common/human.h"
#include "drocc/v1/job.pb.h"
#include "drocc/v1/types.pb.h"
#include "nlohmann/json.hpp"

namespace drocc::cli {

enum class Format { kTable, kJson, kCsv };

// Left-aligned columns, two spaces apart, a header row.
class Table {
 public:
  explicit Table(std::vector<std::string> header);
  void Add(std::vector<std::string> row);
  std::string Render() const;

 private:
  std::vector<std::vector<std::string>> rows_;
};

// Amounts travel as int64 thousandths of a unit (v1::Amount.milli). These print them exactly,
// with integer arithmetic only: "12.5", "40.0", "0.125", "-3.25" (at least one decimal, so an
// amount never reads like a count of GPUs; at most three; trailing zeros beyond the first
// trimmed).
using ::drocc::FormatMilli;  // common/human.h
// FormatMilli plus the unit: "12.5 gpu-hours".
std::string FormatAmount(int64_t milli, std::string_view resource);
std::string FormatAmount(const v1::Amount& a);
// "12.5 gpu-hours, 100.0 cpu-hours"; "none" for no amounts.
std::string FormatAmounts(const google::protobuf::RepeatedPtrField<v1::Amount>& amounts);
// {"resource": "gpu-hours", "amount_milli": 12500, "amount": "12.5"}: the exact integer for
// programs, the decimal as a string (a JSON number would pass through a double).
nlohmann::json AmountJson(int64_t milli, std::string_view resource);
nlohmann::json AmountJson(const v1::Amount& a);

// RFC 4180: the field as is, or in double quotes (inner quotes doubled) when it holds a comma,
// a quote, CR or LF.
std::string CsvField(std::string_view field);
// The fields, quoted as needed, comma-separated, ending in "\n".
std::string CsvRow(const std::vector<std::string>& fields);

// Timestamps from the API; unset (zero) means "none".
bool IsSet(const google::protobuf::Timestamp& t);
absl::Time ToTime(const google::protobuf::Timestamp& t);
std::string TimeText(const google::protobuf::Timestamp& t);     // HumanTime, or "-"
nlohmann::json TimeJson(const google::protobuf::Timestamp& t);  // RFC 3339 UTC, or null

// "lab" for ACCOUNT_KIND_LAB given the prefix "ACCOUNT_KIND_": enum names as users type them.
std::string EnumLabel(const std::string& name, std::string_view prefix);

// Prints JSON (indented) or text on stdout.
void PrintJson(const nlohmann::json& j);
void PrintText(const std::string& text);
// The result of a change: `json` for Format::kJson, else `line` and a newline.
void PrintResult(Format format, const std::string& line, const nlohmann::json& json);

// A phase's progress (v1::ProgressRecord) for people: "1.5 MiB / 4.0 MiB", "1.5 MiB" when
// the total is unknown (0), "-" when no bytes were reported.
std::string ProgressBytes(const v1::ProgressRecord& p);
// The share of bytes done, rounded down so that only a finished phase shows 100; nullopt when
// the total is unknown.
std::optional<int> ProgressPercent(const v1::ProgressRecord& p);
// "12s ago", "3m 5s ago" (a time ahead of `now` reads "0s ago"), or "-" when unset.
std::string Ago(const google::protobuf::Timestamp& t, absl::Time now);

std::string StateName(v1::JobState state);  // "RUNNING"
nlohmann::json JobToJson(const v1::Job& job);
// `drocc show` for people; `now` for the run time of a running job and how old reports are.
std::string JobDetail(const v1::Job& job, absl::Time now);
void PrintJobs(const std::vector<v1::Job>& jobs, Format format);

}  // namespace drocc::cli
