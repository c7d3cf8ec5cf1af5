// Fuzzes the checkpoint manifest reader, DecodeManifest (runtime/src/checkpoint/manifest.h):
// the JSON file whose appearance commits a checkpoint, read at restart from storage that may
// have damaged it.
//
// Input: if byte 0 is even, the rest is the manifest as read from disk. Most such inputs stop
// at the body checksum, so if byte 0 is odd the rest is taken as the manifest's *body*, and the
// fuzzer wraps it in a header with the right checksum: that reaches every field of the body.
// Besides not crashing or hitting UB: an accepted manifest has one shard per rank in rank
// order, and encoding it again gives text that decodes to the same manifest.

#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "runtime/src/checkpoint/manifest.h"
#include "runtime/src/hash/xxh3.h"
#include "tests/fuzz/fuzz_check.h"

namespace drocc::runtime::checkpoint {
namespace {

// `body` (JSON text) inside a well-formed header with its checksum, or "" if it is not JSON.
std::string WithValidHeader(std::string_view body_text) {
  nlohmann::json body = nlohmann::json::parse(body_text.begin(), body_text.end(), nullptr,
                                              /*allow_exceptions=*/false);
  if (body.is_discarded()) return "";
  const std::string dumped = body.dump();
  nlohmann::json doc;
  doc["format"] = "drocc-checkpoint";
  doc["version"] = kManifestVersion;
  doc["body_xxh3"] = absl::StrFormat("%016x", Xxh3Of(dumped.data(), dumped.size()));
  doc["body"] = std::move(body);
  return doc.dump();
}

}  // namespace
}  // namespace drocc::runtime::checkpoint

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace drocc::runtime::checkpoint;
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string text(rest);
  if (data[0] % 2 == 1) {
    // json::dump() throws on strings that are not UTF-8; such a body cannot be wrapped.
    try {
      text = WithValidHeader(rest);
    } catch (const nlohmann::json::exception&) {
      return 0;
    }
    if (text.empty()) return 0;
  }

  const absl::StatusOr<Manifest> m = DecodeManifest(text);
  if (!m.ok()) {
    DROCC_FUZZ_CHECK(absl::IsDataLoss(m.status()), m.status().ToString());
    return 0;
  }
  DROCC_FUZZ_CHECK(m->world_size >= 1 && m->shards.size() == static_cast<size_t>(m->world_size),
                   absl::StrCat(m->shards.size(), " shards for world size ", m->world_size));
  for (int r = 0; r < m->world_size; ++r) {
    DROCC_FUZZ_CHECK(m->shards[r].rank == r,
                     absl::StrCat("shard ", r, " is rank ", m->shards[r].rank));
  }
  std::string again_text;
  try {
    again_text = EncodeManifest(*m);
  } catch (const std::exception& e) {
    drocc::fuzz::Fail(__FILE__, __LINE__,
                      absl::StrCat("an accepted manifest cannot be encoded: ", e.what()));
  }
  const absl::StatusOr<Manifest> again = DecodeManifest(again_text);
  DROCC_FUZZ_CHECK(again.ok(), absl::StrCat(again.status().ToString(), " for\n", again_text));
  DROCC_FUZZ_CHECK(*again == *m, absl::StrCat("decodes differently:\n", again_text));
  return 0;
}
