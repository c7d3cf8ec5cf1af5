#include "client/jobspec/export_env.h"

#include <map>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "client/jobspec/parse_util.h"

namespace drocc::client {
namespace {

bool ValidName(std::string_view name) {
  if (name.empty()) return false;
  if (absl::ascii_isdigit(static_cast<unsigned char>(name[0]))) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

std::string_view NameOf(std::string_view entry) { return entry.substr(0, entry.find('=')); }

}  // namespace

absl::StatusOr<ExportedEnvironment> ResolveExport(
    const std::optional<std::string>& spec, const std::vector<std::string>& client_environment,
    std::string_view option, const std::function<void(std::string_view)>& warn) {
  ExportedEnvironment out;
  out.mode = spec.value_or("ALL");
  auto invalid = [&](std::string_view why) {
    return absl::InvalidArgumentError(internal::Cat("invalid environment export \"", out.mode, "\"",
                                                    internal::OptionSuffix(option), ": ", why));
  };
  constexpr std::string_view kForm = "use ALL, NONE, or a comma-separated list like ALL,A,B=2";

  // The client's variables by name (first occurrence wins, as getenv() does).
  std::map<std::string, std::string, std::less<>> client;
  for (const std::string& entry : client_environment) {
    const size_t eq = entry.find('=');
    if (eq == std::string::npos || eq == 0) continue;
    client.emplace(entry.substr(0, eq), entry);
  }

  bool all = false;
  bool none = false;
  std::vector<std::string> order;                   // names as first listed
  std::map<std::string, std::string> explicit_set;  // name -> "K=V" (value given or taken)
  for (std::string_view item : internal::Split(out.mode, ',')) {
    if (item.empty()) return invalid(internal::Cat("empty entry; ", kForm));
    if (internal::EqualsIgnoreCase(item, "ALL")) {
      all = true;
      continue;
    }
    if (internal::EqualsIgnoreCase(item, "NONE")) {
      none = true;
      continue;
    }
    std::string_view name = NameOf(item);
    if (!ValidName(name)) {
      return invalid(internal::Cat("\"", name, "\" is not a variable name; ", kForm));
    }
    std::string value;
    if (item.size() > name.size()) {
      value = std::string(item);
    } else if (auto it = client.find(name); it != client.end()) {
      value = it->second;
    } else {
      if (warn) {
        warn(internal::Cat("--export lists ", name, ", which is not set in your environment"));
      }
      continue;
    }
    if (!explicit_set.contains(std::string(name))) order.emplace_back(name);
    explicit_set[std::string(name)] = std::move(value);
  }
  if (all && none) return invalid("ALL and NONE contradict each other; keep one");

  if (all || !spec.has_value()) {
    out.variables = client_environment;
    for (const std::string& name : order) {
      if (!client.contains(name)) out.variables.push_back(explicit_set[name]);
    }
    return out;
  }
  for (const std::string& name : order) out.variables.push_back(explicit_set[name]);
  return out;
}

}  // namespace drocc::client
