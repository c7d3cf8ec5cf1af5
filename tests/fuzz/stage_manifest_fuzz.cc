// Fuzzes the stage-in manifest reader (runtime/src/staging/manifest.h): JSON lines, a header
// and one record per complete file, read block by block from a manifest a killed run may have
// torn or a disk may have damaged.
//
// Input: byte 0 chooses how the rest is cut into pieces; the rest is the manifest. Besides not
// crashing: the result is the same whether the text comes in one piece or in many (the block
// boundaries of LoadManifest are arbitrary), every record's path is clean, and every record
// written back with EncodeManifestLine decodes to itself.

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "runtime/src/staging/manifest.h"
#include "runtime/src/staging/tree.h"
#include "tests/fuzz/fuzz_check.h"

namespace drocc::runtime::staging {
namespace {

LoadedManifest ParseInPieces(absl::string_view text, uint8_t seed) {
  ManifestParser parser;
  size_t step = 1 + seed % 7;
  while (!text.empty()) {
    const size_t n = std::min(step, text.size());
    parser.Add(text.substr(0, n));
    text.remove_prefix(n);
    step = 1 + (step * 31 + seed) % 64;
  }
  return std::move(parser).Finish();
}

}  // namespace
}  // namespace drocc::runtime::staging

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace drocc::runtime::staging;
  if (size == 0) return 0;
  const absl::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);

  ManifestParser whole;
  whole.Add(text);
  const LoadedManifest loaded = std::move(whole).Finish();
  const LoadedManifest pieces = ParseInPieces(text, data[0]);
  DROCC_FUZZ_CHECK(pieces.records == loaded.records && pieces.bad_lines == loaded.bad_lines,
                   absl::StrCat("in pieces: ", pieces.records.size(), " records, ",
                                pieces.bad_lines, " bad lines; whole: ", loaded.records.size(),
                                " records, ", loaded.bad_lines, " bad lines"));

  for (const auto& [path, record] : loaded.records) {
    DROCC_FUZZ_CHECK(path.empty() || IsCleanRelativePath(path), absl::StrCat("path ", path));
    const std::string line = EncodeManifestLine(path, record);
    DROCC_FUZZ_CHECK(!line.empty() && line.back() == '\n' && line.find('\n') == line.size() - 1,
                     absl::StrCat("not one line: ", line));
    std::string decoded_path;
    ManifestRecord decoded;
    DROCC_FUZZ_CHECK(DecodeManifestLine(line, &decoded_path, &decoded),
                     absl::StrCat("does not decode: ", line));
    DROCC_FUZZ_CHECK(decoded_path == path && decoded == record,
                     absl::StrCat("decodes to something else: ", line));
  }
  return 0;
}
