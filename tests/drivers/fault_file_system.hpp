// FaultFileSystem: an in-memory FileSystem that remembers what is durable apart from what was only
// written, as LevelDB's fault_injection_test does. Data is durable after sync (fdatasync) or
// write_new (which fsyncs); a name (created, renamed) is durable only after sync_dir of its folder.
// crash() forgets everything not durable. fail_at(n) makes the n-th operation fail and every one
// after it too: the process "died" there.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "tasklane/drivers/file_system.hpp"

namespace tasklane::drivers::testing {

class FaultFileSystem final : public FileSystem {
 public:
  struct Inode {
    std::string data;
    std::string synced;
  };
  struct State {
    std::map<std::string, std::shared_ptr<Inode>> names;          // what the process sees
    std::map<std::string, std::shared_ptr<Inode>> durable_names;  // what survives a crash
  };

  std::size_t operations() const { return operations_; }
  void fail_at(std::size_t n) { fail_at_ = n; }
  bool failed() const { return failed_; }

  // The state a machine would boot with after losing power now.
  State crashed() const {
    State s;
    for (const auto& [name, inode] : state_.durable_names) {
      auto copy = std::make_shared<Inode>();
      copy->data = copy->synced = inode->synced;
      s.durable_names[name] = copy;
      s.names[name] = copy;
    }
    return s;
  }
  explicit FaultFileSystem(State s = {}) : state_(std::move(s)) {}

  Result<std::string, IoError> read(const std::filesystem::path& file) override {
    if (auto f = step(); !f) return Failure{f.error()};
    const auto it = state_.names.find(file.string());
    if (it == state_.names.end()) return Failure{IoError{IoError::Kind::NotFound, "no " + file.string()}};
    return it->second->data;
  }
  Result<void, IoError> append(const std::filesystem::path& file, std::string_view bytes) override {
    if (auto f = step(); !f) return f;
    inode(file).data.append(bytes);
    return {};
  }
  Result<void, IoError> sync(const std::filesystem::path& file) override {
    if (auto f = step(); !f) return f;
    auto& i = inode(file);
    i.synced = i.data;
    return {};
  }
  Result<void, IoError> write_new(const std::filesystem::path& file, std::string_view bytes) override {
    if (auto f = step(); !f) return f;
    auto fresh = std::make_shared<Inode>();
    fresh->data = fresh->synced = std::string(bytes);
    state_.names[file.string()] = fresh;
    return {};
  }
  Result<void, IoError> rename(const std::filesystem::path& from, const std::filesystem::path& to) override {
    if (auto f = step(); !f) return f;
    const auto it = state_.names.find(from.string());
    if (it == state_.names.end()) return Failure{IoError{IoError::Kind::NotFound, "no " + from.string()}};
    state_.names[to.string()] = it->second;
    state_.names.erase(it);
    return {};
  }
  Result<void, IoError> sync_dir(const std::filesystem::path& dir) override {
    if (auto f = step(); !f) return f;
    const std::string prefix = dir.string() + "/";
    for (auto it = state_.durable_names.begin(); it != state_.durable_names.end();) {
      it = it->first.rfind(prefix, 0) == 0 && !state_.names.count(it->first) ? state_.durable_names.erase(it) : std::next(it);
    }
    for (const auto& [name, inode] : state_.names) {
      if (name.rfind(prefix, 0) == 0) state_.durable_names[name] = inode;
    }
    return {};
  }
  Result<void, IoError> truncate(const std::filesystem::path& file, std::uint64_t size) override {
    if (auto f = step(); !f) return f;
    auto& i = inode(file);
    i.data.resize(std::min<std::size_t>(size, i.data.size()));
    return {};
  }
  Result<void, IoError> create_dir(const std::filesystem::path&) override { return step(); }
  bool exists(const std::filesystem::path& file) override { return state_.names.count(file.string()) != 0; }
  Result<void, IoError> lock_dir(const std::filesystem::path&) override { return step(); }

 private:
  Result<void, IoError> step() {
    ++operations_;
    if (fail_at_ && operations_ >= *fail_at_) failed_ = true;
    if (failed_) return Failure{IoError{IoError::Kind::Failed, "injected failure at operation " + std::to_string(operations_)}};
    return {};
  }
  Inode& inode(const std::filesystem::path& file) {
    auto& slot = state_.names[file.string()];
    if (!slot) slot = std::make_shared<Inode>();
    return *slot;
  }

  State state_;
  std::size_t operations_ = 0;
  std::optional<std::size_t> fail_at_;
  bool failed_ = false;
};

}  // namespace tasklane::drivers::testing
