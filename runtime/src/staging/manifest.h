#pragma once

// The stage-in manifest, DST/.drocc-stage/manifest: what this node's DST holds complete. JSON
// lines; the first says what the file is, each other one is a complete file:
//
//   {"format":"drocc-stage-manifest","version":1}
//   {"path":"train/part-0001.bin","size":1048576,"mtime_ns":1700000000123456789,"xxh3":"…"}
//
// A file is recorded only after its copy was checked against the source checksum and renamed
// to its final name, so the manifest never claims more than DST holds (a path that is not
// valid UTF-8 is stored as "path_hex" instead). Each line is written as its file completes
// (one write, so a killed process loses none); a later line for the same path wins; a line that is
// not a well-formed record (the torn last line of a killed run, a damaged file) is ignored and
// counted, and the file it described is simply copied again. The manifest is rewritten compacted at
// the start of every stage-in (keeping only files still complete) and at the end.

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "drocc/runtime/file_system.h"

namespace drocc::runtime::staging {

inline constexpr char kManifestName[] = "manifest";
inline constexpr int kManifestVersion = 1;

struct ManifestRecord {
  uint64_t size = 0;
  int64_t mtime_ns = 0;  // the source's, which the copy was given
  uint64_t xxh3 = 0;     // XXH3-64 of the content
  bool operator==(const ManifestRecord&) const = default;
};
using ManifestRecords = std::unordered_map<std::string, ManifestRecord>;

// One line, ending in '\n'.
std::string EncodeManifestLine(const std::string& path, const ManifestRecord& record);
// false for anything that is not one record (the header line included).
bool DecodeManifestLine(absl::string_view line, std::string* path, ManifestRecord* record);

struct LoadedManifest {
  ManifestRecords records;
  uint64_t bad_lines = 0;  // ignored
};
// Reads manifest text handed over in pieces of any size (LoadManifest hands over the file's
// blocks, so that a manifest of millions of files needs no copy of itself in memory); the
// result does not depend on where the pieces end.
class ManifestParser {
 public:
  // The next bytes of the manifest.
  void Add(absl::string_view bytes);
  // True once the header named another version: the rest need not be read, the result is empty.
  bool other_version() const { return other_version_; }
  // The end of the manifest (a last line without '\n' is read too): what it holds.
  LoadedManifest Finish() &&;

 private:
  void Line(absl::string_view line);

  std::string pending_;  // the unfinished last line
  bool first_ = true;
  bool other_version_ = false;
  LoadedManifest out_;
};

// Reads the manifest at `path`: empty if there is none, or if it is of another format or
// version (everything is then copied again).
absl::StatusOr<LoadedManifest> LoadManifest(FileSystem& fs, const std::string& path);

// The manifest of one node during a stage-in. Add is thread-safe (the writer threads call it
// as files complete); the rest is called from one thread.
class ManifestWriter {
 public:
  // Writes `records` to `path` (through `path`.tmp, fsync and rename) and keeps the file open
  // to append to it.
  static absl::StatusOr<std::unique_ptr<ManifestWriter>> Open(FileSystem& fs, std::string path,
                                                              ManifestRecords records);
  ~ManifestWriter();
  ManifestWriter(const ManifestWriter&) = delete;
  ManifestWriter& operator=(const ManifestWriter&) = delete;

  // Records a complete file: appends its line (not synced: DST is node-local scratch, and a
  // process killed at any point loses nothing; see docs/staging.md on node crashes).
  absl::Status Add(const std::string& path, const ManifestRecord& record);
  // Rewrites the manifest with the records `keep` accepts, durably (tmp, fsync, rename, fsync
  // of the directory), and closes it; Add must not be called afterwards.
  absl::Status Compact(const std::function<bool(const std::string&, const ManifestRecord&)>& keep);

 private:
  ManifestWriter(FileSystem& fs, std::string path) : fs_(fs), path_(std::move(path)) {}
  // Writes `records` to path_.tmp, renames it to path_; file_ is the new file, open.
  absl::Status Rewrite(const std::function<bool(const std::string&, const ManifestRecord&)>& keep);

  FileSystem& fs_;
  const std::string path_;
  std::mutex mu_;
  std::unique_ptr<File> file_;  // guarded by mu_
  uint64_t offset_ = 0;         // where the next line goes; guarded by mu_
  ManifestRecords records_;     // every record: loaded, then added; guarded by mu_
};

}  // namespace drocc::runtime::staging
