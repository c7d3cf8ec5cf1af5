#include "daemon/auth/service_token.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sys/random.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace drocc::auth {

bool IsLowerHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

absl::StatusOr<std::string> RandomBytes(size_t n) {
  std::string bytes(n, '\0');
  size_t got = 0;
  while (got < bytes.size()) {
    ssize_t r = getrandom(bytes.data() + got, bytes.size() - got, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      return absl::InternalError(
          absl::StrCat("cannot read random bytes from the kernel: ", std::strerror(errno)));
    }
    got += static_cast<size_t>(r);
  }
  return bytes;
}

absl::StatusOr<NewServiceToken> MakeServiceToken() {
  absl::StatusOr<std::string> id = RandomBytes(kServiceTokenIdChars / 2);
  if (!id.ok()) return id.status();
  absl::StatusOr<std::string> secret = RandomBytes(kServiceTokenSecretChars / 2);
  if (!secret.ok()) return secret.status();
  NewServiceToken t;
  t.parts.id = absl::BytesToHexString(*id);
  t.parts.secret = absl::BytesToHexString(*secret);
  t.text = absl::StrCat(kServiceTokenPrefix, t.parts.id, "_", t.parts.secret);
  return t;
}

absl::StatusOr<ServiceTokenParts> ParseServiceToken(std::string_view text) {
  const std::string_view prefix(kServiceTokenPrefix);
  const size_t want = prefix.size() + kServiceTokenIdChars + 1 + kServiceTokenSecretChars;
  if (text.size() != want || !text.starts_with(prefix) ||
      text[prefix.size() + kServiceTokenIdChars] != '_') {
    return absl::InvalidArgumentError(
        absl::StrCat("this is not a drocc service token (one reads \"drocc_\", 12 hex digits, "
                     "\"_\", 64 hex digits; ",
                     text.size(), " characters given)"));
  }
  ServiceTokenParts p;
  p.id = std::string(text.substr(prefix.size(), kServiceTokenIdChars));
  p.secret = std::string(text.substr(prefix.size() + kServiceTokenIdChars + 1));
  if (!IsLowerHex(p.id) || !IsLowerHex(p.secret)) {
    return absl::InvalidArgumentError(
        "this is not a drocc service token: its id and secret must be lowercase hex digits");
  }
  return p;
}

std::string HashTokenSecret(std::string_view secret) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(secret.data(), secret.size(), digest, &len, EVP_sha256(), nullptr);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), static_cast<size_t>(len)));
}

bool TokenSecretMatches(std::string_view secret, std::string_view hash) {
  const std::string want = HashTokenSecret(secret);
  return hash.size() == want.size() && CRYPTO_memcmp(want.data(), hash.data(), want.size()) == 0;
}

}  // namespace drocc::auth
