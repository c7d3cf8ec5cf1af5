#pragma once

// Small strict parsing and string helpers shared by the jobspec parsers. Internal to
// drocc_jobspec.
//
// sbatch parses numbers with strtol(), which skips leading blanks and accepts a sign; these
// helpers are stricter on purpose: a value is digits only, so "4 " or "+4" is an error rather
// than a silent guess.
//
// The string helpers exist because this abseil build has its own absl::string_view, distinct
// from std::string_view, which the public API uses; they take std::string_view directly.

#include <concepts>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/string_view.h"

namespace drocc::client::internal {

// Parses a non-empty run of ASCII digits into a value <= max. nullopt on any other character,
// on an empty string, or when the value exceeds max.
std::optional<uint64_t> ParseDigits(std::string_view text, uint64_t max);

// True when every character is an ASCII digit and there is at least one.
bool AllDigits(std::string_view text);

// " (-t/--time)" when option is not empty, "" otherwise: how errors name the option.
std::string OptionSuffix(std::string_view option);

// Case-insensitive ASCII comparisons.
bool EqualsIgnoreCase(std::string_view a, std::string_view b);
bool StartsWithIgnoreCase(std::string_view text, std::string_view prefix);

// Splits on every `sep`, keeping empty pieces ("a,,b" -> {"a", "", "b"}; "" -> {""}).
std::vector<std::string_view> Split(std::string_view text, char sep);

inline void AppendPiece(std::string& out, std::string_view s) { out.append(s); }
inline void AppendPiece(std::string& out, absl::string_view s) { out.append(s.data(), s.size()); }
inline void AppendPiece(std::string& out, const char* s) { out.append(s); }
inline void AppendPiece(std::string& out, const std::string& s) { out.append(s); }
inline void AppendPiece(std::string& out, char c) { out.push_back(c); }
template <std::integral T>
requires(!std::same_as<T, char> && !std::same_as<T, bool>) void AppendPiece(std::string& out, T n) {
  out.append(std::to_string(n));
}

// Concatenates strings, characters and integers (like absl::StrCat, for std::string_view).
template <typename... Args>
std::string Cat(const Args&... args) {
  std::string out;
  (AppendPiece(out, args), ...);
  return out;
}

}  // namespace drocc::client::internal
