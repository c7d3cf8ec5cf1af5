#include "daemon/store/spec_json.h"

#include <cstdint>
#include <exception>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace drocc::store {
namespace {

using nlohmann::json;

// Writes `value` under `key` unless it is the zero value.
template <typename T>
void Put(json& j, const char* key, const T& value) {
  if (value != T{}) j[key] = value;
}

// Reads `key` into `out` when present (and not null); leaves `out` alone otherwise.
template <typename T>
void Get(const json& j, const char* key, T& out) {
  auto it = j.find(key);
  if (it != j.end() && !it->is_null()) out = it->template get<T>();
}

}  // namespace

absl::StatusOr<std::string> JobSpecToJson(const queue::JobSpec& spec) {
  json j = json::object();
  Put(j, "name", spec.name);
  Put(j, "project", spec.project);
  Put(j, "partition", spec.partition);
  Put(j, "script", spec.script);
  Put(j, "script_path", spec.script_path);
  Put(j, "args", spec.args);
  Put(j, "workdir", spec.workdir);
  Put(j, "environment", spec.environment);
  Put(j, "export_mode", spec.export_mode);
  Put(j, "output", spec.output);
  Put(j, "error", spec.error);
  Put(j, "open_mode", spec.open_mode);
  Put(j, "nodes", spec.nodes);
  Put(j, "max_nodes", spec.max_nodes);
  Put(j, "ntasks", spec.ntasks);
  Put(j, "ntasks_per_node", spec.ntasks_per_node);
  Put(j, "cpus_per_task", spec.cpus_per_task);
  Put(j, "gpus_per_node", spec.gpus_per_node);
  Put(j, "gres", spec.gres);
  Put(j, "mem_mb", spec.mem_mb);
  Put(j, "time_limit_s", spec.time_limit_s);
  if (spec.signal != queue::SignalSpec{}) {
    json s = json::object();
    Put(s, "signal", spec.signal.signal);
    Put(s, "seconds_before", spec.signal.seconds_before);
    Put(s, "batch_only", spec.signal.batch_only);
    j["signal"] = std::move(s);
  }
  Put(j, "priority", spec.priority);
  Put(j, "labels", spec.labels);
  try {
    return j.dump();
  } catch (const json::type_error& e) {
    // dump() refuses invalid UTF-8 (error 316); the API should have refused it first.
    return absl::InvalidArgumentError(
        absl::StrCat("the job spec holds text that is not valid UTF-8 (", e.what(),
                     "); submit the script and its arguments as UTF-8"));
  }
}

absl::StatusOr<queue::JobSpec> JobSpecFromJson(absl::string_view text) {
  json j = json::parse(text.begin(), text.end(), /*cb=*/nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return absl::DataLossError("a stored job spec is not a JSON object");
  }
  queue::JobSpec spec;
  try {
    Get(j, "name", spec.name);
    Get(j, "project", spec.project);
    Get(j, "partition", spec.partition);
    Get(j, "script", spec.script);
    Get(j, "script_path", spec.script_path);
    Get(j, "args", spec.args);
    Get(j, "workdir", spec.workdir);
    Get(j, "environment", spec.environment);
    Get(j, "export_mode", spec.export_mode);
    Get(j, "output", spec.output);
    Get(j, "error", spec.error);
    Get(j, "open_mode", spec.open_mode);  // absent before drocc knew --open-mode: ""
    Get(j, "nodes", spec.nodes);
    Get(j, "max_nodes", spec.max_nodes);
    Get(j, "ntasks", spec.ntasks);
    Get(j, "ntasks_per_node", spec.ntasks_per_node);
    Get(j, "cpus_per_task", spec.cpus_per_task);
    Get(j, "gpus_per_node", spec.gpus_per_node);
    Get(j, "gres", spec.gres);
    Get(j, "mem_mb", spec.mem_mb);
    Get(j, "time_limit_s", spec.time_limit_s);
    if (auto it = j.find("signal"); it != j.end() && it->is_object()) {
      Get(*it, "signal", spec.signal.signal);
      Get(*it, "seconds_before", spec.signal.seconds_before);
      Get(*it, "batch_only", spec.signal.batch_only);
    }
    Get(j, "priority", spec.priority);
    Get(j, "labels", spec.labels);
  } catch (const std::exception& e) {
    return absl::DataLossError(
        absl::StrCat("a stored job spec has a field of the wrong type (", e.what(), ")"));
  }
  return spec;
}

std::string AmountMapToJson(const queue::AmountMap& amounts) {
  // Replace invalid UTF-8 rather than throw: a resource name comes from the site's config.
  return json(amounts).dump(-1, ' ', false, json::error_handler_t::replace);
}

absl::StatusOr<queue::AmountMap> AmountMapFromJson(absl::string_view text) {
  if (text == "{}") return queue::AmountMap{};  // most jobs: skip the parser
  json j = json::parse(text.begin(), text.end(), /*cb=*/nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return absl::DataLossError("stored job amounts are not a JSON object");
  }
  queue::AmountMap amounts;
  for (const auto& [name, value] : j.items()) {
    bool fits = value.is_number_integer() &&
                (!value.is_number_unsigned() ||
                 value.get<uint64_t>() <= uint64_t{std::numeric_limits<int64_t>::max()});
    if (!fits) {
      return absl::DataLossError(
          absl::StrCat("stored job amount \"", name, "\" is not a 64-bit integer: ", value.dump()));
    }
    amounts[name] = value.get<int64_t>();
  }
  return amounts;
}

}  // namespace drocc::store
