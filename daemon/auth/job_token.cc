#include "daemon/auth/job_token.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "daemon/auth/service_token.h"

namespace drocc::auth {
namespace {

constexpr size_t kKeyBytes = 32;

}  // namespace

absl::StatusOr<std::string> JobTokens::NewKey() {
  absl::StatusOr<std::string> key = RandomBytes(kKeyBytes);
  if (!key.ok()) return key.status();
  return absl::BytesToHexString(*key);
}

absl::StatusOr<JobTokens> JobTokens::FromKey(std::string_view hex_key) {
  if (hex_key.size() != 2 * kKeyBytes || !IsLowerHex(hex_key)) {
    return absl::InvalidArgumentError(absl::StrCat("the job token key must be ", 2 * kKeyBytes,
                                                   " lowercase hex digits; got ", hex_key.size(),
                                                   " characters"));
  }
  return JobTokens(absl::HexStringToBytes(absl::string_view(hex_key.data(), hex_key.size())));
}

std::string JobTokens::TokenFor(uint64_t job_id) const {
  const std::string msg = absl::StrCat("drocc-job-token:", job_id);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()),
       reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), mac, &len);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(mac), static_cast<size_t>(len)));
}

bool JobTokens::Verify(uint64_t job_id, std::string_view token) const {
  const std::string want = TokenFor(job_id);
  return token.size() == want.size() && CRYPTO_memcmp(want.data(), token.data(), want.size()) == 0;
}

}  // namespace drocc::auth
