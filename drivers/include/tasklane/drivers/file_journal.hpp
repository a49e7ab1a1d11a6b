// FileJournal: the embedded default store. Durable task records are appended to DIR/journal.log
// (framing in journal_format.hpp; each record's body, and the snapshot's, in the binary format of
// record_codec.hpp; journals and snapshots written as JSON before it still open) and made durable
// in groups: one fdatasync per commit(), however many records it holds, before any of them is
// acknowledged. write_snapshot() compacts: the snapshot goes to a temp file, is fsynced, renamed
// over DIR/snapshot, the directory is fsynced, and the journal restarts empty. The directory is
// locked while a FileJournal owns it.
//
//   auto opened = FileJournal::open("tasklane-data");
//   if (!opened) { report(opened.error().message); return; }   // names file and offset
//   kernel.restore(opened.value().recovery.snapshot, now);
//   journal = std::move(opened.value().journal);
//   ... on each Persist command: journal->append(record); then, once per batch: journal->commit();
//
// Recovery restores snapshot + journal, with the snapshot's next_id raised past every id reserved
// (reserve_ids); the snapshot's records, in id order, are taken as they are and a journal record
// replacing one finds it by binary search. A torn tail (the end of a write cut short by a crash) is
// cut off and reported in JournalRecovery; damage in the middle (a bad checksum with an intact
// record after it), or a body that does not decode, wherever it is, refuses to open with an error
// naming the file and offset, after moving the damaged file aside (never deleting it). Quota usage
// comes from the snapshot plus the attempts started in records written after it (quota_replay.hpp).
// Older JSON bodies still open; a build older than binary bodies cannot read what this one writes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "tasklane/drivers/file_system.hpp"
#include "tasklane/snapshot.hpp"

namespace tasklane::drivers {

struct JournalError {
  enum class Kind : std::uint8_t { Io, Locked, Corrupt };
  Kind kind = Kind::Io;
  std::string message;
  std::filesystem::path file;
  std::optional<std::uint64_t> offset;           // where the damage is, for Corrupt
  std::optional<std::filesystem::path> moved_to;  // where the damaged file now is
};

struct JournalRecovery {
  Snapshot snapshot;                // what kernel.restore() takes
  std::uint64_t records_replayed = 0;
  std::optional<std::uint64_t> torn_tail_at;  // offset the journal was cut at, when it was torn
  std::uint64_t torn_bytes = 0;
};

class FileJournal {
 public:
  struct Opened;
  static Result<Opened, JournalError> open(const std::filesystem::path& dir,
                                          std::shared_ptr<FileSystem> fs = std::make_shared<PosixFileSystem>());

  void append(const TaskInfo& record);   // buffered until commit()
  // Records that no id below `below` may be handed out again after a restart, so that the ids of
  // tasks that are not durable keep growing across a crash too (buffered until commit()).
  void reserve_ids(std::uint64_t below);
  std::size_t buffered() const { return buffer_records_; }
  Result<void, JournalError> commit();   // one write and one fdatasync for all buffered records
  Result<void, JournalError> write_snapshot(const Snapshot& snapshot);

  std::uint64_t next_seq() const { return next_seq_; }
  std::uint64_t journal_bytes() const { return journal_bytes_; }
  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path journal_path() const { return dir_ / "journal.log"; }
  std::filesystem::path snapshot_path() const { return dir_ / "snapshot"; }

 private:
  FileJournal(std::filesystem::path dir, std::shared_ptr<FileSystem> fs) : dir_(std::move(dir)), fs_(std::move(fs)) {}

  std::filesystem::path dir_;
  std::shared_ptr<FileSystem> fs_;
  std::string buffer_;
  std::string body_;  // the record being encoded (kept for its capacity)
  std::size_t buffer_records_ = 0;
  std::uint64_t next_seq_ = 0;
  std::uint64_t journal_bytes_ = 0;
};

struct FileJournal::Opened {
  std::unique_ptr<FileJournal> journal;
  JournalRecovery recovery;
};

// Reads a data directory without changing or locking it (for inspection tools). `progress` hears
// (records read, records in the journal) before each journal record it replays.
using ReadProgress = std::function<void(std::uint64_t done, std::uint64_t total)>;
Result<JournalRecovery, JournalError> read_data_dir(const std::filesystem::path& dir, FileSystem& fs,
                                                    const ReadProgress& progress = {});

}  // namespace tasklane::drivers
