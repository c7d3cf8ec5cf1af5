#pragma once

// Service tokens (SPEC §8): bearer credentials for remote pipelines on droccd's TLS listener.
//
// A token reads "drocc_<id>_<secret>": <id> is 12 lowercase hex digits, public, naming the
// token in lists and audit records; <secret> is 64 lowercase hex digits (32 random bytes from
// the kernel's CSPRNG). droccd keeps only SHA-256(secret), so neither its database nor its
// logs can give a token back; the secret is shown once, when the token is made.

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace drocc::auth {

inline constexpr char kServiceTokenPrefix[] = "drocc_";
inline constexpr size_t kServiceTokenIdChars = 12;
inline constexpr size_t kServiceTokenSecretChars = 64;

struct ServiceTokenParts {
  std::string id;
  std::string secret;
};

// Whether `s` is only the digits 0-9a-f (secrets and keys are written so).
bool IsLowerHex(std::string_view s);

// `n` random bytes from getrandom(2). INTERNAL if the kernel cannot give them.
absl::StatusOr<std::string> RandomBytes(size_t n);

// A fresh token: its parts and the whole text given to the user.
struct NewServiceToken {
  ServiceTokenParts parts;
  std::string text;
};
absl::StatusOr<NewServiceToken> MakeServiceToken();

// Splits a token's text. INVALID_ARGUMENT for anything that is not a token's shape (the
// message never repeats the text: it may be a secret pasted in the wrong place).
absl::StatusOr<ServiceTokenParts> ParseServiceToken(std::string_view text);

// SHA-256 of `secret`, lowercase hex.
std::string HashTokenSecret(std::string_view secret);
// Whether SHA-256(secret) is `hash`, in time independent of where they differ.
bool TokenSecretMatches(std::string_view secret, std::string_view hash);

}  // namespace drocc::auth
