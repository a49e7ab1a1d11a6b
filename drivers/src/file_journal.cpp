// FileJournal: group commit, snapshot-and-restart, and recovery that never drops a record silently.
#include "tasklane/drivers/file_journal.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <iterator>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tasklane/drivers/crc32c.hpp"
#include "tasklane/drivers/journal_format.hpp"
#include "tasklane/drivers/record_codec.hpp"
#include "quota_replay.hpp"

namespace tasklane::drivers {
namespace {

constexpr std::string_view snapshot_magic = "tasklane-snapshot v1";

JournalError io_error(const IoError& e, const std::filesystem::path& file) {
  return JournalError{e.kind == IoError::Kind::Busy ? JournalError::Kind::Locked : JournalError::Kind::Io, e.message, file,
                      std::nullopt, std::nullopt};
}

JournalError corrupt(const std::filesystem::path& file, std::uint64_t offset, const std::string& why) {
  return JournalError{JournalError::Kind::Corrupt,
                      file.string() + " is damaged at offset " + std::to_string(offset) + ": " + why, file, offset,
                      std::nullopt};
}

// "tasklane-snapshot v1 <journal_seq> <length> <crc32c>\n<body>": the body binary (written) or
// JSON (older files), told apart by its first byte (record_codec.hpp).
std::string encode_snapshot_file(const Snapshot& snapshot, std::uint64_t journal_seq) {
  const std::string body = encode_snapshot_body(snapshot);
  return std::string(snapshot_magic) + " " + std::to_string(journal_seq) + " " + std::to_string(body.size()) + " " +
         std::to_string(crc32c(body)) + "\n" + body;
}

struct SnapshotFile {
  Snapshot snapshot;
  std::uint64_t journal_seq = 0;
};

// A damaged snapshot: what is wrong, at which offset of the file.
struct SnapshotDamage {
  std::string why;
  std::uint64_t offset = 0;
};

Result<SnapshotFile, SnapshotDamage> decode_snapshot_file(std::string_view bytes) {
  const auto newline = bytes.find('\n');
  if (newline == std::string_view::npos || bytes.substr(0, snapshot_magic.size()) != snapshot_magic) {
    return Failure{SnapshotDamage{"not a tasklane snapshot (bad header)"}};
  }
  std::uint64_t seq = 0, length = 0, crc = 0;
  const std::string header(bytes.substr(snapshot_magic.size(), newline - snapshot_magic.size()));
  if (std::sscanf(header.c_str(), " %lu %lu %lu", &seq, &length, &crc) != 3) {  // NOLINT
    return Failure{SnapshotDamage{"snapshot header is unreadable"}};
  }
  const auto body = bytes.substr(newline + 1);
  if (body.size() != length) {
    return Failure{SnapshotDamage{"snapshot body is " + std::to_string(body.size()) + " bytes, header says " + std::to_string(length)}};
  }
  if (crc32c(body) != crc) return Failure{SnapshotDamage{"snapshot checksum mismatch"}};
  auto snapshot = decode_snapshot_body(body);
  if (!snapshot) return Failure{SnapshotDamage{snapshot.error().message, newline + 1 + snapshot.error().at}};
  return SnapshotFile{std::move(snapshot).value(), seq};
}

// Asks the OS for huge pages behind a large vector's free capacity (Linux transparent huge pages,
// in "madvise" mode on many machines): a million records are ~480 MB, which 4 KB pages fault in
// 120,000 times. Only a hint; nothing depends on it being taken.
template <class T>
void advise_huge_pages([[maybe_unused]] std::vector<T>& v) {
#ifdef MADV_HUGEPAGE  // Linux
  constexpr std::uintptr_t huge = std::uintptr_t{2} << 20;
  if (v.capacity() * sizeof(T) < 4 * huge) return;
  const auto begin = reinterpret_cast<std::uintptr_t>(v.data() + v.size());
  const auto end = reinterpret_cast<std::uintptr_t>(v.data() + v.capacity());
  const std::uintptr_t first = (begin + huge - 1) & ~(huge - 1);
  const std::uintptr_t last = end & ~(huge - 1);
  if (last > first) (void)madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE);
#endif
}

// The last record of every task, replaced in place when a later one comes, listed in id order at
// the end (as Kernel::snapshot lists them). No record is copied: each is moved in once and out once.
// A snapshot's records, already in id order, are adopted whole and found by binary search, so a
// restore after a compaction neither moves nor hashes them.
class LatestRecords {
 public:
  void adopt(std::vector<TaskInfo>&& records, std::size_t more) {
    const auto not_after = [](const TaskInfo& a, const TaskInfo& b) { return !(a.id < b.id); };
    if (std::adjacent_find(records.begin(), records.end(), not_after) != records.end()) {
      records_.reserve(records.size() + more);
      advise_huge_pages(records_);
      index_.reserve(records.size() + more);
      for (auto& r : records) put(std::move(r));
      return;
    }
    if (more > 0) {  // the records move into a new buffer: advised before they do
      records_.reserve(records.size() + more);
      advise_huge_pages(records_);
      std::move(records.begin(), records.end(), std::back_inserter(records_));
    } else {
      records_ = std::move(records);
    }
    index_.reserve(more);
    sorted_ = records_.size();
  }
  // The record as stored, and the attempt count of the record it replaced (0 for a new task).
  struct Put {
    const TaskInfo& stored;
    std::uint32_t attempts_before = 0;
  };
  Put put(TaskInfo&& record) {
    if (sorted_ > 0 && !(records_[sorted_ - 1].id < record.id)) {
      const auto end = records_.begin() + static_cast<std::ptrdiff_t>(sorted_);
      const auto it = std::lower_bound(records_.begin(), end, record.id,
                                       [](const TaskInfo& r, TaskId id) { return r.id < id; });
      if (it != end && it->id == record.id) return replace(*it, std::move(record));
    }
    const auto [it, fresh] = index_.try_emplace(record.id.value, records_.size());
    if (!fresh) return replace(records_[it->second], std::move(record));
    records_.push_back(std::move(record));
    return Put{records_.back(), 0};
  }
  std::vector<TaskInfo> take_in_id_order() {
    const auto by_id = [](const TaskInfo& a, const TaskInfo& b) { return a.id.value < b.id.value; };
    if (!std::is_sorted(records_.begin(), records_.end(), by_id)) std::sort(records_.begin(), records_.end(), by_id);
    index_.clear();
    sorted_ = 0;
    return std::move(records_);
  }

 private:
  static Put replace(TaskInfo& slot, TaskInfo&& record) {
    const std::uint32_t before = slot.attempt;
    slot = std::move(record);
    return Put{slot, before};
  }

  std::vector<TaskInfo> records_;
  std::size_t sorted_ = 0;  // records_[0, sorted_) came from the snapshot in strict id order
  std::unordered_map<std::uint64_t, std::size_t> index_;  // id -> position in records_, for the rest
};

struct DirState {
  JournalRecovery recovery;
  std::uint64_t next_seq = 0;
  std::uint64_t valid_bytes = 0;
  bool journal_stale_only = false;  // every record predates the snapshot
};

Result<DirState, JournalError> read_dir_state(const std::filesystem::path& dir, FileSystem& fs,
                                             const ReadProgress& progress = {}) {
  DirState state;
  const auto snapshot_path = dir / "snapshot";
  const auto journal_path = dir / "journal.log";
  std::uint64_t journal_seq = 0;
  if (fs.exists(snapshot_path)) {
    const auto bytes = fs.read(snapshot_path);
    if (!bytes) return Failure{io_error(bytes.error(), snapshot_path)};
    auto file = decode_snapshot_file(bytes.value());
    if (!file) return Failure{corrupt(snapshot_path, file.error().offset, file.error().why)};
    state.recovery.snapshot = std::move(file.value().snapshot);
    journal_seq = file.value().journal_seq;
  }
  state.next_seq = journal_seq;
  LatestRecords tasks;
  std::uint64_t ids_reserved = 0;
  const auto keep_snapshot_tasks = [&](std::size_t more) { tasks.adopt(std::move(state.recovery.snapshot.tasks), more); };

  if (!fs.exists(journal_path)) {
    keep_snapshot_tasks(0);
  } else {
    const auto bytes = fs.read(journal_path);
    if (!bytes) return Failure{io_error(bytes.error(), journal_path)};
    const JournalScan scan = scan_journal(bytes.value());
    keep_snapshot_tasks(scan.frames.size());
    if (scan.damage_at && !scan.torn) {
      return Failure{corrupt(journal_path, *scan.damage_at, scan.damage + "; intact records follow, so this is not a torn write")};
    }
    bool seen_current = false;
    std::uint64_t frames_read = 0;
    for (const auto& frame : scan.frames) {
      if (progress) progress(frames_read++, scan.frames.size());
      if (frame.seq < journal_seq) continue;  // written before the snapshot; the snapshot holds it
      if (!seen_current && frame.seq != journal_seq) {
        return Failure{corrupt(journal_path, frame.offset,
                               "record " + std::to_string(frame.seq) + " follows a snapshot that ends before record " +
                                   std::to_string(journal_seq))};
      }
      seen_current = true;
      auto record = decode_record_body(frame.payload);
      if (!record) {
        const BodyError& e = record.error();
        return Failure{corrupt(journal_path, frame.offset,
                               "record " + std::to_string(frame.seq) + ": " + e.message +
                                   (e.at > 0 ? "; that payload byte is at offset " +
                                                   std::to_string(frame.offset + journal_header_size + e.at) + " of the file"
                                             : std::string()))};
      }
      if (auto* reserved = std::get_if<IdsReserved>(&record.value())) {
        ids_reserved = std::max(ids_reserved, reserved->below);
      } else {
        const auto put = tasks.put(std::get<TaskInfo>(std::move(record).value()));
        // Attempts started since the snapshot count into their quota (quota_replay.hpp).
        count_quota_starts(state.recovery.snapshot.quotas, put.attempts_before, put.stored);
        ++state.recovery.records_replayed;
      }
      state.next_seq = frame.seq + 1;
    }
    state.valid_bytes = scan.valid_bytes;
    state.journal_stale_only = !scan.frames.empty() && !seen_current;
    if (scan.damage_at) {
      state.recovery.torn_tail_at = scan.valid_bytes;
      state.recovery.torn_bytes = bytes.value().size() - scan.valid_bytes;
    }
  }
  auto& snapshot = state.recovery.snapshot;
  snapshot.next_id = std::max(snapshot.next_id, ids_reserved);
  snapshot.tasks = tasks.take_in_id_order();
  if (!snapshot.tasks.empty()) snapshot.next_id = std::max(snapshot.next_id, snapshot.tasks.back().id.value + 1);
  return state;
}

std::filesystem::path move_aside(FileSystem& fs, const std::filesystem::path& file) {
  for (int n = 1;; ++n) {
    std::filesystem::path aside = file;
    aside += ".damaged-" + std::to_string(n);
    if (fs.exists(aside)) continue;
    if (!fs.rename(file, aside)) return {};
    return aside;
  }
}

}  // namespace

Result<JournalRecovery, JournalError> read_data_dir(const std::filesystem::path& dir, FileSystem& fs,
                                                    const ReadProgress& progress) {
  auto state = read_dir_state(dir, fs, progress);
  if (!state) return Failure{state.error()};
  return std::move(state).value().recovery;
}

Result<FileJournal::Opened, JournalError> FileJournal::open(const std::filesystem::path& dir, std::shared_ptr<FileSystem> fs) {
  if (auto made = fs->create_dir(dir); !made) return Failure{io_error(made.error(), dir)};
  if (auto locked = fs->lock_dir(dir); !locked) return Failure{io_error(locked.error(), dir / "LOCK")};
  auto state = read_dir_state(dir, *fs);
  if (!state) {
    JournalError error = state.error();
    if (error.kind == JournalError::Kind::Corrupt) {
      const auto aside = move_aside(*fs, error.file);
      if (!aside.empty()) {
        error.moved_to = aside;
        error.message += "; the file was moved to " + aside.string() + " and the next start begins without it";
      }
    }
    return Failure{std::move(error)};
  }
  std::unique_ptr<FileJournal> journal(new FileJournal(dir, fs));
  journal->next_seq_ = state.value().next_seq;
  journal->journal_bytes_ = state.value().valid_bytes;
  const auto journal_file = journal->journal_path();
  const bool cut = state.value().recovery.torn_tail_at.has_value() || state.value().journal_stale_only;
  if (cut) {
    const std::uint64_t keep = state.value().journal_stale_only ? 0 : state.value().valid_bytes;
    if (auto t = fs->truncate(journal_file, keep); !t) return Failure{io_error(t.error(), journal_file)};
    if (auto s = fs->sync(journal_file); !s) return Failure{io_error(s.error(), journal_file)};
    journal->journal_bytes_ = keep;
  }
  if (!fs->exists(journal_file)) {
    // The journal's directory entry must be durable before any record in it is acknowledged:
    // fdatasync on the file does not promise that; fsync of the directory does.
    if (auto c = fs->append(journal_file, {}); !c) return Failure{io_error(c.error(), journal_file)};
    if (auto s = fs->sync(journal_file); !s) return Failure{io_error(s.error(), journal_file)};
    if (auto d = fs->sync_dir(dir); !d) return Failure{io_error(d.error(), dir)};
  }
  return Opened{std::move(journal), std::move(state).value().recovery};
}

void FileJournal::append(const TaskInfo& record) {
  body_.clear();
  append_task_body(body_, record);
  append_journal_record(buffer_, next_seq_++, body_);
  ++buffer_records_;
}

void FileJournal::reserve_ids(std::uint64_t below) {
  body_.clear();
  append_ids_reserved_body(body_, below);
  append_journal_record(buffer_, next_seq_++, body_);
  ++buffer_records_;
}

Result<void, JournalError> FileJournal::commit() {
  if (buffer_.empty()) return {};
  const auto file = journal_path();
  auto written = fs_->append(file, buffer_);
  if (written) written = fs_->sync(file);
  if (!written) {
    // Leave no half record behind for the next commit to follow; the batch stays buffered.
    (void)fs_->truncate(file, journal_bytes_);
    return Failure{io_error(written.error(), file)};
  }
  journal_bytes_ += buffer_.size();
  buffer_.clear();
  buffer_records_ = 0;
  return {};
}

Result<void, JournalError> FileJournal::write_snapshot(const Snapshot& snapshot) {
  if (auto committed = commit(); !committed) return committed;
  auto temp = snapshot_path();
  temp += ".tmp";
  if (auto w = fs_->write_new(temp, encode_snapshot_file(snapshot, next_seq_)); !w) return Failure{io_error(w.error(), temp)};
  if (auto r = fs_->rename(temp, snapshot_path()); !r) return Failure{io_error(r.error(), temp)};
  if (auto d = fs_->sync_dir(dir_); !d) return Failure{io_error(d.error(), dir_)};
  // From here the snapshot holds everything; records below next_seq_ are skipped if the cut is lost.
  const auto file = journal_path();
  if (fs_->exists(file)) {
    if (auto t = fs_->truncate(file, 0); !t) return Failure{io_error(t.error(), file)};
    if (auto s = fs_->sync(file); !s) return Failure{io_error(s.error(), file)};
  }
  journal_bytes_ = 0;
  return {};
}

}  // namespace tasklane::drivers
