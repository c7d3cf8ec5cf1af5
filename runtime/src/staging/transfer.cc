#include "runtime/src/staging/transfer.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace drocc::runtime::staging {
namespace {

// A file is not cut into a piece smaller than this to fill the end of a chunk (unless that is
// all that is left of it): the next chunk takes it whole.
constexpr size_t kMinPiece = size_t{16} << 10;

// Pieces from this size on are copied by the kernel where it can (File::CopyRangeFrom); a
// smaller one costs less to write from the bytes in hand than to set the copy up.
constexpr uint32_t kKernelCopyFrom = uint32_t{256} << 10;

// Files from this size on are written behind: each piece is sent on to the disk once written
// (File::StartWriteback). Smaller files are left to the kernel, which writes many together.
constexpr uint64_t kWriteBehindFrom = uint64_t{8} << 20;

absl::Status ChangedError(const std::string& path, const Entry& e, const FileInfo& now) {
  return absl::FailedPreconditionError(
      absl::StrCat("SRC file ", path, " changed while it was being staged (", e.size,
                   " bytes, mtime ", e.mtime_ns, " ns when listed; now ", now.size,
                   " bytes, mtime ", now.mtime_ns, " ns); rerun once SRC no longer changes"));
}

bool Changed(const Entry& e, const FileInfo& now) {
  return now.size != e.size || now.mtime_ns != e.mtime_ns;
}

// Whether the `length` bytes at `offset` of a file just written read back with the XXH3-64
// `xxh3`. Read in blocks small enough to stay in the core's cache, with the pages just written
// still in it: the check costs a copy and a hash of hot memory, not another trip through RAM.
absl::StatusOr<bool> PieceMatches(File& file, uint64_t offset, uint32_t length, uint64_t xxh3) {
  constexpr size_t kBlock = size_t{1} << 20;
  thread_local const IoBuffer buffer(kBlock);
  thread_local Xxh3 hash;
  hash.Reset();
  for (uint32_t done = 0; done < length;) {
    const size_t want = std::min<size_t>(kBlock, length - done);
    ASSIGN_OR_RETURN(const size_t n, file.PRead(offset + done, buffer.get(), want));
    if (n < want) return false;  // shorter than written
    if (want == length) return Xxh3Of(buffer.get(), n) == xxh3;
    hash.Update(buffer.get(), n);
    done += static_cast<uint32_t>(n);
  }
  return hash.Digest() == xxh3;
}

}  // namespace

// ---- ChunkSource --------------------------------------------------------------------------

ChunkSource::ChunkSource(FileSystem& fs, std::string src, const Tree& tree,
                         std::vector<uint32_t> files, Options options,
                         std::atomic<uint64_t>* bytes_read)
    : fs_(fs),
      src_(std::move(src)),
      tree_(tree),
      files_(std::move(files)),
      options_(options),
      bytes_read_(bytes_read) {
  for (int i = 0; i < (options_.sink ? 0 : options_.chunks); ++i) {
    auto c = std::make_unique<Chunk>();
    Chunk* raw = c.get();
    c->buffer = std::make_unique<SharedBuffer>(options_.chunk_bytes, [this, raw] { Recycle(raw); });
    free_.push_back(raw);
    chunks_.push_back(std::move(c));
  }
  const int threads =
      static_cast<int>(std::max<size_t>(1, std::min<size_t>(options_.threads, files_.size())));
  readers_ = threads;
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { ReadLoop(); });
}

ChunkSource::~ChunkSource() {
  Abort();
  for (std::thread& t : threads_) t.join();
}

void ChunkSource::Abort() {
  std::lock_guard lock(mu_);
  aborted_ = true;
  changed_.notify_all();
}

ChunkSource::Taken ChunkSource::Take(absl::Duration wait) {
  std::unique_lock lock(mu_);
  const auto any = [&] {
    return !ready_.empty() || !error_.ok() || aborted_ || (finished_ && current_ == nullptr);
  };
  if (wait == absl::InfiniteDuration()) {
    changed_.wait(lock, any);
  } else if (!changed_.wait_for(lock, absl::ToChronoNanoseconds(wait), any)) {
    return Taken{};
  }
  if (!error_.ok()) return Taken{.error = error_};
  if (aborted_) return Taken{.error = absl::CancelledError("reading SRC was stopped")};
  if (ready_.empty()) return Taken{.last = true};
  Chunk* c = ready_.front();
  ready_.pop_front();
  c->buffer->Hold();
  return Taken{.chunk = c->buffer.get(),
               .size = c->used,
               .last = finished_ && ready_.empty() && current_ == nullptr};
}

void ChunkSource::ReadLoop() {
  Xxh3 hash;
  std::unique_ptr<IoBuffer> own;
  if (options_.sink) own = std::make_unique<IoBuffer>(options_.chunk_bytes);
  while (!aborted_) {
    const size_t k = next_file_++;
    if (k >= files_.size()) break;
    absl::Status st = ReadFile(files_[k], hash, own != nullptr ? own->get() : nullptr);
    if (!st.ok()) {
      std::lock_guard lock(mu_);
      if (!aborted_ && error_.ok()) error_ = std::move(st);  // not the Cancelled of Abort
      aborted_ = true;
      changed_.notify_all();
      break;
    }
  }
  std::lock_guard lock(mu_);
  if (--readers_ > 0) return;
  finished_ = true;  // every reservation is committed now
  if (current_ != nullptr) {
    if (current_->used > sizeof(PartHeader)) {
      SealLocked(current_);
    } else {
      free_.push_back(current_);
      current_ = nullptr;
    }
  }
  changed_.notify_all();
}

absl::Status ChunkSource::ReadFile(uint32_t index, Xxh3& hash, char* own) {
  const Entry& e = tree_[index];
  const std::string path = JoinPath(src_, e.path);
  ASSIGN_OR_RETURN(std::unique_ptr<File> file, fs_.OpenForRead(path));
  hash.Reset();
  uint64_t offset = 0;
  for (;;) {
    ASSIGN_OR_RETURN(Reservation r, Reserve(index, offset, e.size - offset, own));
    r.source = file.get();
    absl::StatusOr<size_t> n = file->PRead(offset, r.data, r.length);
    absl::Status st = n.status();
    uint64_t piece_xxh3 = 0;
    size_t got = 0;
    if (n.ok()) {
      *bytes_read_ += *n;
      hash.Update(r.data, *n);
      piece_xxh3 = Xxh3Of(r.data, *n);  // the piece is still in this core's cache
      offset += *n;
      got = *n;
    }
    const bool last = st.ok() && (offset == e.size || *n < r.length);
    if (last) {
      // What was read must be the file as listed (same size and mtime after the last byte),
      // or every copy would be of a torn file that matches its own checksum.
      absl::StatusOr<FileInfo> after = file->Stat();
      if (!after.ok()) {
        st = after.status();
      } else if (offset != e.size || Changed(e, *after)) {
        st = ChangedError(path, e, *after);
      }
    }
    Commit(r, got, st.ok(), last, last ? hash.Digest() : 0, piece_xxh3);
    RETURN_IF_ERROR(st);
    if (last) return file->Close();
  }
}

absl::StatusOr<ChunkSource::Reservation> ChunkSource::Reserve(uint32_t file, uint64_t offset,
                                                              uint64_t remaining, char* own) {
  if (own != nullptr) {
    if (aborted_) return absl::CancelledError("reading SRC was stopped");
    return Reservation{
        .data = own,
        .length = static_cast<size_t>(std::min<uint64_t>(remaining, options_.chunk_bytes)),
        .file = file,
        .offset = offset};
  }
  std::unique_lock lock(mu_);
  for (;;) {
    if (current_ == nullptr) {
      // Another reader may start the next chunk while this one waits: then fill that one.
      changed_.wait(lock, [&] { return current_ != nullptr || !free_.empty() || aborted_; });
      if (aborted_) return absl::CancelledError("reading SRC was stopped");
      if (current_ == nullptr) {
        current_ = free_.back();
        free_.pop_back();
        current_->used = sizeof(PartHeader);
        current_->pending = 0;
        current_->sealed = false;
      }
    }
    Chunk* c = current_;
    const size_t space = options_.chunk_bytes - c->used - sizeof(PieceHeader);
    if (remaining <= space || space >= kMinPiece) {
      Reservation r{.chunk = c,
                    .header_at = c->used,
                    .length = static_cast<size_t>(std::min<uint64_t>(remaining, space))};
      r.data = c->buffer->data() + c->used + sizeof(PieceHeader);
      const PieceHeader h{.file = file,
                          .offset = offset,
                          .xxh3 = 0,
                          .piece_xxh3 = 0,
                          .length = static_cast<uint32_t>(r.length),
                          .flags = 0};
      std::memcpy(c->buffer->data() + c->used, &h, sizeof h);
      c->used += sizeof(PieceHeader) + r.length;
      ++c->pending;
      // No room for another piece header and a byte: hand it on once its pieces are read.
      if (options_.chunk_bytes - c->used <= sizeof(PieceHeader)) SealLocked(c);
      return r;
    }
    SealLocked(c);
  }
}

void ChunkSource::Commit(const Reservation& r, size_t n, bool ok, bool last, uint64_t xxh3,
                         uint64_t piece_xxh3) {
  if (r.chunk == nullptr) {
    if (ok) {
      options_.sink(Piece{.file = r.file,
                          .offset = r.offset,
                          .data = r.data,
                          .length = static_cast<uint32_t>(n),
                          .piece_xxh3 = piece_xxh3,
                          .last = last,
                          .xxh3 = xxh3,
                          .source = r.source});
    }
    return;
  }
  last = last && ok;
  PieceHeader h;
  char* at = r.chunk->buffer->data() + r.header_at;
  std::memcpy(&h, at, sizeof h);
  h.piece_xxh3 = piece_xxh3;
  if (last) {
    h.flags |= kPieceLast;
    h.xxh3 = xxh3;
  }
  std::memcpy(at, &h, sizeof h);
  std::lock_guard lock(mu_);
  if (--r.chunk->pending == 0 && r.chunk->sealed) {
    ready_.push_back(r.chunk);
    changed_.notify_all();
  }
}

void ChunkSource::SealLocked(Chunk* c) {
  c->sealed = true;
  current_ = nullptr;
  if (c->pending == 0) {
    ready_.push_back(c);
    changed_.notify_all();
  }
}

void ChunkSource::Recycle(Chunk* c) {
  std::lock_guard lock(mu_);
  free_.push_back(c);
  changed_.notify_all();
}

// ---- Receiver -----------------------------------------------------------------------------

Receiver::Receiver(Destination destination, int threads)
    : dst_(std::move(destination)), queue_(threads) {}

Receiver::~Receiver() {
  Abort();
  Drain();
}

std::string Receiver::PartialPath(uint32_t index) const {
  return absl::StrCat(dst_.partial_dir, "/", index);
}

absl::Status Receiver::Accept(const char* part, size_t size, SharedBuffer* buffer, Counts* counts) {
  const Tree& tree = *dst_.tree;
  size_t at = sizeof(PartHeader);
  while (at < size) {
    PieceHeader h;
    if (size - at < sizeof h) return absl::DataLossError("a received chunk is truncated");
    std::memcpy(&h, part + at, sizeof h);
    at += sizeof h;
    if (h.file >= tree.size() || tree[h.file].type != FileType::kRegular || h.length > size - at ||
        h.offset > tree[h.file].size || h.length > tree[h.file].size - h.offset) {
      return absl::DataLossError(
          absl::StrCat("a received chunk has a piece of file ", h.file, " that does not fit it"));
    }
    const char* data = part + at;
    at += h.length;
    counts->bytes += h.length;
    if (h.flags & kPieceLast) ++counts->files;
    const uint32_t index = static_cast<uint32_t>(h.file);
    Incoming* in = Wanted(index, (h.flags & kPieceLast) != 0, h.xxh3);
    if (in == nullptr) continue;
    buffer->Hold();
    queue_.Push([this, index, in, offset = h.offset, data, length = h.length,
                 piece_xxh3 = h.piece_xxh3,
                 buffer] { Write(index, in, offset, data, length, piece_xxh3, buffer); });
  }
  return absl::OkStatus();
}

Receiver::Incoming* Receiver::Wanted(uint32_t index, bool last, uint64_t xxh3) {
  if (stop_ || index >= wanted_.size() || !wanted_[index]) return nullptr;
  Incoming* in;
  {
    std::lock_guard lock(mu_);
    std::unique_ptr<Incoming>& slot = incoming_[index];
    if (slot == nullptr) {
      slot = std::make_unique<Incoming>();
      slot->remaining = (*dst_.tree)[index].size;
    }
    in = slot.get();
  }
  if (last) {
    in->xxh3 = xxh3;
    in->have_checksum = true;
  }
  return in;
}

void Receiver::Place(const ChunkSource::Piece& p) {
  Incoming* in = Wanted(p.file, p.last, p.xxh3);
  if (in != nullptr) Write(p.file, in, p.offset, p.data, p.length, p.piece_xxh3, nullptr, p.source);
}

void Receiver::Write(uint32_t index, Incoming* in, uint64_t offset, const char* data,
                     uint32_t length, uint64_t piece_xxh3, SharedBuffer* buffer, File* source) {
  absl::Status st;
  if (!stop_) {
    File* file = nullptr;
    {
      std::lock_guard lock(in->mu);
      if (in->file == nullptr && !in->create_failed) {
        absl::StatusOr<std::unique_ptr<File>> f = dst_.fs->Create(PartialPath(index), 0600);
        if (f.ok()) {
          in->file = *std::move(f);
        } else {
          in->create_failed = true;
          st = f.status();
        }
      }
      file = in->file.get();
    }
    if (file != nullptr) {
      bool written = false;
      if (source != nullptr && copy_in_kernel_ && length >= kKernelCopyFrom) {
        st = file->CopyRangeFrom(*source, offset, length);
        written = !absl::IsUnimplemented(st);
        if (!written) copy_in_kernel_ = false;  // not between these filesystems: never again
      }
      if (!written) st = file->PWrite(offset, data, length);
      // Large files go on to the disk as they are written, not all at the next sync.
      if (st.ok() && (*dst_.tree)[index].size >= kWriteBehindFrom) {
        file->StartWriteback(offset, length);
      }
    }
    if (file != nullptr && st.ok()) {
      absl::StatusOr<bool> match = PieceMatches(*file, offset, length, piece_xxh3);
      if (!match.ok()) {
        st = match.status();
      } else if (!*match) {
        in->damaged = true;  // sent again in the next pass
      }
    }
  }
  if (buffer != nullptr) buffer->Release();
  if (!st.ok()) Fail(std::move(st));
  // The piece that brings the count to zero completes the file (every other piece of it has
  // been written by then: each one subtracts only after its write).
  if (in->remaining.fetch_sub(length) == length) Complete(index);
}

void Receiver::Complete(uint32_t index) {
  std::unique_ptr<Incoming> in;
  {
    std::lock_guard lock(mu_);
    auto it = incoming_.find(index);
    in = std::move(it->second);
    incoming_.erase(it);
  }
  if (in->file == nullptr) return;  // creating it failed, or the pass stopped first
  // Without the last piece (its reader failed on it) the pass is stopping anyway.
  const bool whole = !stop_ && in->have_checksum;
  const bool damaged = in->damaged;
  const Entry& e = (*dst_.tree)[index];
  absl::Status st;
  if (whole && !damaged) {
    st = in->file->SetMtime(e.mtime_ns);  // written and checked: nothing changes it now
    if (st.ok()) st = in->file->SetMode(e.mode);
  }
  absl::Status closed = in->file->Close();
  if (st.ok()) st = std::move(closed);
  if (st.ok() && whole) st = damaged ? Discard(index) : Finalize(index, in->xxh3);
  if (!st.ok()) Fail(std::move(st));
}

absl::Status Receiver::Discard(uint32_t index) {
  {
    std::lock_guard lock(mu_);
    mismatched_.push_back(index);
  }
  return dst_.fs->Unlink(PartialPath(index));
}

absl::Status Receiver::Finalize(uint32_t index, uint64_t xxh3) {
  FileSystem& fs = *dst_.fs;
  const Entry& e = (*dst_.tree)[index];
  const std::string partial = PartialPath(index);
  const std::string final_path = JoinPath(dst_.root, e.path);
  if (absl::Status st = fs.Rename(partial, final_path); !st.ok()) {
    // A directory where SRC has a file: the file wins (a file or symlink is replaced by the
    // rename itself).
    absl::StatusOr<FileInfo> there = fs.Lstat(final_path);
    if (!there.ok() || there->type != FileType::kDirectory) return st;
    RETURN_IF_ERROR(RemoveTree(fs, final_path));
    RETURN_IF_ERROR(fs.Rename(partial, final_path));
  }
  return dst_.manifest->Add(e.path, {.size = e.size, .mtime_ns = e.mtime_ns, .xxh3 = xxh3});
}

void Receiver::Fail(absl::Status status) {
  std::lock_guard lock(mu_);
  if (error_.ok()) error_ = std::move(status);
  stop_ = true;
}

absl::Status Receiver::error() {
  std::lock_guard lock(mu_);
  return error_;
}

void Receiver::Abort() { stop_ = true; }

std::vector<uint32_t> Receiver::Drain() {
  queue_.WaitIdle();
  std::lock_guard lock(mu_);
  incoming_.clear();  // files of a pass that stopped: their partial copies are abandoned
  return std::exchange(mismatched_, {});
}

// ---- RunPass ------------------------------------------------------------------------------

namespace {

// One node: nothing to send. The readers write each piece themselves as they read it
// (ChunkSource's sink), and this thread reports progress until they are done.
absl::Status RunLocalPass(Exchange& x, std::vector<uint32_t> mine,
                          std::vector<uint32_t>* mismatched) {
  Session& session = *x.session;
  Receiver& receiver = *x.receiver;
  std::atomic<uint64_t> bytes{0};
  std::atomic<uint64_t> files{0};
  absl::Status own;
  {
    ChunkSource source(session.fs(), x.src, *x.tree, std::move(mine),
                       {.chunk_bytes = session.chunk_bytes(),
                        .threads = session.options().io_threads,
                        .sink =
                            [&](const ChunkSource::Piece& p) {
                              receiver.Place(p);
                              bytes += p.length;
                              if (p.last) ++files;
                            }},
                       &x.source_bytes_read);
    for (;;) {
      const ChunkSource::Taken t = source.Take(absl::Milliseconds(100));
      if (own.ok()) own = t.error;
      if (own.ok()) own = receiver.error();
      if (!own.ok() || t.last) break;
      if (x.count_progress) {
        session.Progress(x.bytes_done + bytes, x.bytes_total, x.files_done + files, x.files_total);
      }
    }
    if (!own.ok()) receiver.Abort();
  }  // the readers have stopped
  if (x.count_progress) {
    x.bytes_done += bytes;
    x.files_done += files;
  }
  *mismatched = receiver.Drain();
  if (own.ok()) own = receiver.error();
  return own;
}

}  // namespace

absl::Status RunPass(Exchange& x, std::vector<uint32_t> mine, std::vector<uint32_t>* mismatched) {
  Session& session = *x.session;
  Communicator& leaders = session.leaders();
  const int nodes = leaders.Size();
  if (nodes == 1) return RunLocalPass(x, std::move(mine), mismatched);
  const size_t chunk = session.chunk_bytes();
  Receiver& receiver = *x.receiver;
  // Two rounds of received data: one being exchanged while the writers work on the other.
  // The receiver is drained before either goes.
  std::vector<std::unique_ptr<SharedBuffer>> rounds;
  for (int i = 0; i < 2; ++i) rounds.push_back(std::make_unique<SharedBuffer>(chunk * nodes));
  ChunkSource source(session.fs(), x.src, *x.tree, std::move(mine),
                     {.chunk_bytes = chunk, .chunks = 3, .threads = session.options().io_threads},
                     &x.source_bytes_read);
  absl::Status own;      // this leader's failure
  bool stopped = false;  // some leader failed
  std::vector<size_t> sizes;
  for (uint64_t round = 0;; ++round) {
    ChunkSource::Taken t = source.Take();
    if (own.ok()) own = t.error;
    if (own.ok()) own = receiver.error();
    PartHeader header{.magic = kPartMagic,
                      .flags = !own.ok() ? kPartError
                               : t.last  ? kPartDone
                                         : 0};
    char alone[sizeof header];
    char* part = t.chunk != nullptr ? t.chunk->data() : alone;
    const size_t part_size = t.chunk != nullptr && own.ok() ? t.size : sizeof header;
    std::memcpy(part, &header, sizeof header);

    SharedBuffer& round_buffer = *rounds[round % 2];
    round_buffer.WaitIdle();  // its pieces of two rounds ago are written
    absl::Status st = leaders.AllGatherBytes(part, part_size, round_buffer.data(),
                                             round_buffer.capacity(), sizes);
    if (t.chunk != nullptr) t.chunk->Release();  // sent: back to the source
    if (!st.ok()) {                              // the same on every leader
      own = st;
      break;
    }
    const char* all = round_buffer.data();

    bool all_done = true;
    const char* at = all;
    for (size_t p = 0; p < sizes.size(); at += sizes[p], ++p) {
      PartHeader h{};
      if (sizes[p] >= sizeof h) std::memcpy(&h, at, sizeof h);
      if (h.magic != kPartMagic && own.ok())
        own = absl::DataLossError("a received chunk is damaged");
      if (h.magic != kPartMagic || (h.flags & kPartError)) stopped = true;
      if (!(h.flags & kPartDone)) all_done = false;
    }
    if (!stopped) {
      Receiver::Counts counts;
      round_buffer.Hold();  // until every piece is queued
      at = all;
      for (size_t p = 0; p < sizes.size() && own.ok(); at += sizes[p], ++p) {
        own = receiver.Accept(at, sizes[p], &round_buffer, &counts);
      }
      round_buffer.Release();
      if (x.count_progress) {
        x.bytes_done += counts.bytes;
        x.files_done += counts.files;
      }
    }
    if (stopped || all_done) break;
    if (x.count_progress) {
      session.Progress(x.bytes_done, x.bytes_total, x.files_done, x.files_total);
    }
  }
  source.Abort();
  if (stopped || !own.ok()) receiver.Abort();
  *mismatched = receiver.Drain();
  if (own.ok()) own = receiver.error();
  if (own.ok() && stopped) return PeerFailed();
  return own;
}

}  // namespace drocc::runtime::staging
