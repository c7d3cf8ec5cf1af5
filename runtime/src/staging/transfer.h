#pragma once

// The stage-in exchange: every leader reads its share of SRC into chunks (ChunkSource), all
// leaders exchange one chunk each per round (an allgather over the leaders), and every leader
// writes the pieces its node needs (Receiver). Reading the next chunk, exchanging this one and
// writing the previous one overlap. Memory per leader: `chunks` chunks of the source and, with
// several leaders, two rounds of received data (2 x leaders x chunk_bytes).
//
// One leader's part of a round:
//   PartHeader {magic, flags: done | error}
//   then pieces: PieceHeader {file index, offset, xxh3 (last piece), piece xxh3, length,
//                             flags: last}
//                followed by `length` bytes of the file at `offset`
// Many small files pack into one part; a large one spans many rounds. A file's last piece
// carries the XXH3-64 of the whole file as it was read from SRC (what the manifest records);
// every piece carries the XXH3-64 of its own bytes, which each node checks once it has written
// the piece and read it back (while it is still in the CPU's cache).

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "drocc/runtime/file_system.h"
#include "runtime/src/staging/checksum.h"
#include "runtime/src/staging/manifest.h"
#include "runtime/src/staging/session.h"
#include "runtime/src/staging/tree.h"
#include "runtime/src/staging/work.h"

namespace drocc::runtime::staging {

struct PartHeader {
  uint32_t magic;
  uint32_t flags;
};
struct PieceHeader {
  uint64_t file;
  uint64_t offset;
  uint64_t xxh3;        // of the whole file (last piece only)
  uint64_t piece_xxh3;  // of this piece's `length` bytes as read from SRC
  uint32_t length;
  uint32_t flags;
};
inline constexpr uint32_t kPartMagic = 0x44535447;  // "GTSD"
inline constexpr uint32_t kPartDone = 1;            // this leader has sent all its files
inline constexpr uint32_t kPartError = 2;           // this leader failed: everybody stops
inline constexpr uint32_t kPieceLast = 1;           // the file's last piece; xxh3 is set

// Reads a list of SRC's files with `threads` threads into chunks of `chunk_bytes` (a pool of
// `chunks`), each file read once, sequentially, and hashed on the way. Take hands out the
// filled chunks; a chunk returns to the pool when its last holder releases it.
//
// With a `sink` (one node: nothing to send) there are no chunks: each reader reads a piece into
// a buffer of its own and hands it to the sink at once, from its own thread, while the piece is
// still in the core's cache; Take then only waits for the end.
class ChunkSource {
 public:
  // One piece read, for a sink.
  struct Piece {
    uint32_t file = 0;
    uint64_t offset = 0;
    const char* data = nullptr;
    uint32_t length = 0;
    uint64_t piece_xxh3 = 0;
    bool last = false;  // the file's last piece: `xxh3` is the whole file's
    uint64_t xxh3 = 0;
    // The open SRC file the piece was read from (at `offset`), valid during the call: the sink may
    // have the kernel copy the piece from it instead of writing `data`.
    File* source = nullptr;
  };
  using Sink = std::function<void(const Piece&)>;
  struct Options {
    size_t chunk_bytes = 0;
    int chunks = 3;
    int threads = 1;
    Sink sink;  // set: no chunks (see above)
  };
  // `bytes_read` counts every byte read from SRC. `tree` must outlive the source.
  ChunkSource(FileSystem& fs, std::string src, const Tree& tree, std::vector<uint32_t> files,
              Options options, std::atomic<uint64_t>* bytes_read);
  // Stops the readers. Every chunk handed out must have been released.
  ~ChunkSource();
  ChunkSource(const ChunkSource&) = delete;
  ChunkSource& operator=(const ChunkSource&) = delete;

  struct Taken {
    SharedBuffer* chunk = nullptr;  // null: nothing more (last is then true)
    size_t size = 0;                // bytes used, the PartHeader space included
    bool last = false;              // nothing will follow
    absl::Status error;             // a reader failed (an unreadable or changing file)
  };
  // The next full chunk, held once for the caller (Release it), blocking until there is one.
  // Its first sizeof(PartHeader) bytes are left for the caller. With a sink: no chunk, and
  // last once every reader is done; after `wait` without either, neither (nothing, not last).
  Taken Take(absl::Duration wait = absl::InfiniteDuration());
  // Stops the readers: they finish nothing more.
  void Abort();

 private:
  struct Chunk {
    std::unique_ptr<SharedBuffer> buffer;
    size_t used = 0;
    int pending = 0;  // reservations not committed yet
    bool sealed = false;
  };
  struct Reservation {
    Chunk* chunk = nullptr;  // null: the reader's own buffer (a sink)
    size_t header_at = 0;
    char* data = nullptr;
    size_t length = 0;
    uint32_t file = 0;
    uint64_t offset = 0;
    File* source = nullptr;  // the SRC file being read (with a sink)
  };

  void ReadLoop();
  // `own`: the reader's buffer of chunk_bytes with a sink, else null.
  absl::Status ReadFile(uint32_t index, Xxh3& hash, char* own);
  absl::StatusOr<Reservation> Reserve(uint32_t file, uint64_t offset, uint64_t remaining,
                                      char* own);
  // `n` bytes read into `r`; `ok`: without an error (a failed piece goes to no sink).
  void Commit(const Reservation& r, size_t n, bool ok, bool last, uint64_t xxh3,
              uint64_t piece_xxh3);
  void SealLocked(Chunk* c);
  void Recycle(Chunk* c);

  FileSystem& fs_;
  const std::string src_;
  const Tree& tree_;
  const std::vector<uint32_t> files_;
  const Options options_;
  std::atomic<uint64_t>* bytes_read_;
  std::atomic<size_t> next_file_{0};
  std::atomic<bool> aborted_{false};

  std::mutex mu_;
  std::condition_variable changed_;
  std::vector<std::unique_ptr<Chunk>> chunks_;
  std::vector<Chunk*> free_;  // guarded by mu_
  std::deque<Chunk*> ready_;  // guarded by mu_
  Chunk* current_ = nullptr;  // being filled; guarded by mu_
  int readers_ = 0;           // still reading; guarded by mu_
  bool finished_ = false;     // every reader is done; guarded by mu_
  absl::Status error_;        // guarded by mu_
  std::vector<std::thread> threads_;
};

// Where one node's copies go.
struct Destination {
  FileSystem* fs = nullptr;
  const Tree* tree = nullptr;
  std::string root;         // DST
  std::string partial_dir;  // DST/.drocc-stage/partial: files being written
  ManifestWriter* manifest = nullptr;
};

// Writes the pieces this node wants into partial files (several threads), reading each piece
// back at once and checking it against the checksum the source computed for it; each completed
// file is given its mode and mtime, renamed to its final name and recorded in the manifest with
// the whole file's checksum. A file with a piece that does not match is removed, not renamed,
// and reported by Drain.
class Receiver {
 public:
  Receiver(Destination destination, int threads);
  ~Receiver();
  Receiver(const Receiver&) = delete;
  Receiver& operator=(const Receiver&) = delete;

  // Which files this node writes (indexed like the tree; 1 = wanted). Between passes only.
  void SetWanted(std::vector<uint8_t> wanted) { wanted_ = std::move(wanted); }

  struct Counts {
    uint64_t bytes = 0;  // in the pieces seen
    uint64_t files = 0;  // last pieces seen
  };
  // Queues the wanted pieces of one leader's part for writing (from the calling thread; the
  // part lies in `buffer`, which is held until they are written). Adds to `counts` every
  // piece seen. DataLoss for a malformed part.
  absl::Status Accept(const char* part, size_t size, SharedBuffer* buffer, Counts* counts);
  // Writes one piece now, from the calling thread (a ChunkSource's sink), if this node wants its
  // file. Called from several threads at once; each file's pieces from one.
  void Place(const ChunkSource::Piece& piece);
  // The first error writing or placing a file, if any.
  absl::Status error();
  // Stops writing: queued pieces are dropped.
  void Abort();
  // Waits for everything queued; abandons files left incomplete (a pass that stopped) and
  // returns the files whose copy did not match, which it forgets.
  std::vector<uint32_t> Drain();

 private:
  struct Incoming {
    std::mutex mu;
    std::unique_ptr<File> file;  // opened by the first piece written
    bool create_failed = false;  // guarded by mu
    std::atomic<uint64_t> remaining{0};
    std::atomic<bool> damaged{false};  // a piece read back did not match its checksum
    // Set by Accept before the last piece is queued; read by whoever completes the file,
    // which comes after that piece's write (the count orders them).
    uint64_t xxh3 = 0;
    bool have_checksum = false;
  };

  // The file's record if this node wants it (made by its first piece), else null. `last`: the
  // piece is the last, and `xxh3` the whole file's checksum.
  Incoming* Wanted(uint32_t index, bool last, uint64_t xxh3);
  // `buffer` (if any) is released once the piece is written.
  // With a `source` (the SRC file the piece was read from), the kernel copies the piece from it
  // where it can (File::CopyRangeFrom); the check that follows compares it with `piece_xxh3`,
  // the checksum of `data`, all the same.
  void Write(uint32_t index, Incoming* in, uint64_t offset, const char* data, uint32_t length,
             uint64_t piece_xxh3, SharedBuffer* buffer, File* source = nullptr);
  void Complete(uint32_t index);
  // A copy with a damaged piece: removed, and reported by Drain.
  absl::Status Discard(uint32_t index);
  // A whole, checked copy: renamed to its final name and recorded in the manifest.
  absl::Status Finalize(uint32_t index, uint64_t xxh3);
  void Fail(absl::Status status);
  std::string PartialPath(uint32_t index) const;

  const Destination dst_;
  std::vector<uint8_t> wanted_;  // set between passes; read during one
  std::atomic<bool> stop_{false};
  std::atomic<bool> copy_in_kernel_{true};  // false once CopyRangeFrom was Unimplemented

  std::mutex mu_;
  std::unordered_map<uint32_t, std::unique_ptr<Incoming>> incoming_;  // guarded by mu_
  std::vector<uint32_t> mismatched_;                                  // guarded by mu_
  absl::Status error_;                                                // guarded by mu_

  WorkQueue queue_;  // last: its threads stop first
};

// One transfer pass of a stage-in, shared by the passes of one call.
struct Exchange {
  Session* session = nullptr;
  const Tree* tree = nullptr;
  std::string src;
  Receiver* receiver = nullptr;
  std::atomic<uint64_t> source_bytes_read{0};
  // Job-wide progress as rank 0 sees it (every leader counts; rank 0 reports).
  bool count_progress = true;  // the first pass; retries do not count
  uint64_t bytes_done = 0;
  uint64_t files_done = 0;
  uint64_t bytes_total = 0;
  uint64_t files_total = 0;
};

// Collective over the leaders: this leader reads `mine` (its share of the pass's files) and
// sends it; every leader writes what it wants of what every leader sends. Returns this
// leader's own error, PeerFailed() if another leader failed, or OK; in every case the
// receiver is drained and `*mismatched` holds the files whose copy here did not match.
absl::Status RunPass(Exchange& x, std::vector<uint32_t> mine, std::vector<uint32_t>* mismatched);

}  // namespace drocc::runtime::staging
