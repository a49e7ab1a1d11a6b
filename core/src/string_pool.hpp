// StringPool: one copy of each task kind and owner name, shared by every task that names it. A
// task record holds a PooledString (one pointer, 8 bytes) where a std::string took 32, and a
// million tasks of a few kinds and owners keep a few strings, not two million.
//
// Counted by hand, not by shared_ptr: the kernel takes a string when a record is made and gives it
// back when the record is forgotten (StringPool::give_back); the last holder's give_back frees it.
// A PooledString moves and never copies (a copy would be a holder the count does not know). The
// pool outlives its handles (both live in Kernel::State).
#pragma once

#include <cassert>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace tasklane::detail {

class PooledString {
 public:
  PooledString() = default;
  PooledString(const PooledString&) = delete;
  PooledString& operator=(const PooledString&) = delete;
  PooledString(PooledString&& other) noexcept : node_(std::exchange(other.node_, nullptr)) {}
  PooledString& operator=(PooledString&& other) noexcept {  // into an empty handle only
    assert(node_ == nullptr || node_ == other.node_);
    node_ = std::exchange(other.node_, nullptr);
    return *this;
  }
  ~PooledString() = default;  // the pool frees (give_back), not the handle

  const std::string& str() const { return node_ ? node_->text : empty(); }
  friend bool operator==(const PooledString& a, const PooledString& b) { return a.node_ == b.node_; }

 private:
  friend class StringPool;
  struct Node {
    std::string text;
    std::uint64_t holders = 0;
  };
  explicit PooledString(Node* node) : node_(node) {}
  static const std::string& empty() {
    static const std::string none;
    return none;
  }
  Node* node_ = nullptr;
};

class StringPool {
 public:
  StringPool() = default;
  StringPool(const StringPool&) = delete;
  StringPool& operator=(const StringPool&) = delete;

  // A handle on `text`'s one copy; counts a holder. The last string taken is checked first: a burst
  // of spawns of one kind by one owner costs a compare, not a hash.
  // The compare is inline, the lookup out of line: a function holding both saved and restored
  // registers on every call (~20 instructions of a ~55-instruction take).
  PooledString take(std::string_view text) {
    PooledString::Node* node = last_ != nullptr && last_->text == text ? last_ : find_or_add(text);
    ++node->holders;
    last_ = node;
    return PooledString(node);
  }

  // One holder fewer; the last one frees the string. The handle is empty afterwards.
  void give_back(PooledString& s) {
    PooledString::Node* node = std::exchange(s.node_, nullptr);
    if (node == nullptr || --node->holders != 0) return;
    if (last_ == node) last_ = nullptr;
    nodes_.erase(nodes_.find(std::string_view(node->text)));  // frees the node and its text
  }

  std::size_t size() const { return nodes_.size(); }  // distinct strings held

 private:
  [[gnu::noinline]] PooledString::Node* find_or_add(std::string_view text) {
    if (const auto it = nodes_.find(text); it != nodes_.end()) return it->second.get();
    auto fresh = std::make_unique<PooledString::Node>();
    fresh->text = std::string(text);
    PooledString::Node* node = fresh.get();
    nodes_.emplace(std::string_view(node->text), std::move(fresh));  // the key views the node's own text
    return node;
  }

  std::unordered_map<std::string_view, std::unique_ptr<PooledString::Node>> nodes_;
  PooledString::Node* last_ = nullptr;
};

}  // namespace tasklane::detail
