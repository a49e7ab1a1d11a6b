// Boxed<T>: an optional value kept on the heap, for the TaskSpec / TaskInfo fields most tasks leave
// unset (a name, a sequence key, a quota, a dedup key, a rate limit, a repeat, the parent's run /
// call / agent, an error text). An unset field costs one pointer (8 bytes) in every task the kernel
// holds, where a std::optional<SequenceKey> cost 104: the kernel walks ~half as many cache lines
// per task (see bench/RESULTS.md, "compact task entry").
//
// It reads and writes like std::optional: `if (spec.quota)`, `spec.quota->key`, `*spec.key`,
// `spec.name = "x"`, `spec.dedup = std::nullopt`, `spec.name.value_or("")`, `info.error == "boom"`.
// Copies are deep; a moved-from Boxed is empty (std::optional keeps a moved-from value).
#pragma once

#include <concepts>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

namespace tasklane {

template <class T>
class Boxed;

namespace detail {
template <class U>
inline constexpr bool is_boxed = false;
template <class U>
inline constexpr bool is_boxed<Boxed<U>> = true;
template <class U>
inline constexpr bool is_optional = false;
template <class U>
inline constexpr bool is_optional<std::optional<U>> = true;
// U can stand for a T value: not another Boxed, not nullopt, not a std::optional (those have their own overloads).
template <class T, class U>
concept boxable_from = !is_boxed<std::remove_cvref_t<U>> && !is_optional<std::remove_cvref_t<U>> &&
                       !std::is_same_v<std::remove_cvref_t<U>, std::nullopt_t> && std::is_constructible_v<T, U&&>;
}  // namespace detail

template <class T>
class Boxed {
  // O is std::optional<T> (any reference): templates, so that `box = {}` picks Boxed&& as for std::optional.
  template <class O>
  static constexpr bool is_std_optional = std::is_same_v<std::remove_cvref_t<O>, std::optional<T>>;

 public:
  using value_type = T;

  Boxed() noexcept = default;
  Boxed(std::nullopt_t) noexcept {}
  template <class U = T>
    requires detail::boxable_from<T, U>
  explicit(!std::is_convertible_v<U&&, T>) Boxed(U&& value) : value_(std::make_unique<T>(std::forward<U>(value))) {}
  template <class O>
    requires is_std_optional<O>
  Boxed(O&& value) : value_(value ? std::make_unique<T>(*std::forward<O>(value)) : nullptr) {}
  Boxed(const Boxed& other) : value_(other.value_ ? std::make_unique<T>(*other.value_) : nullptr) {}
  Boxed(Boxed&&) noexcept = default;
  ~Boxed() = default;

  Boxed& operator=(const Boxed& other) {
    if (this == &other) return *this;
    if (!other.value_) {
      value_.reset();
    } else if (value_) {
      *value_ = *other.value_;
    } else {
      value_ = std::make_unique<T>(*other.value_);
    }
    return *this;
  }
  Boxed& operator=(Boxed&&) noexcept = default;
  template <class O>
    requires is_std_optional<O>
  Boxed& operator=(O&& value) {
    if (value) return *this = *std::forward<O>(value);
    value_.reset();
    return *this;
  }
  Boxed& operator=(std::nullopt_t) noexcept {
    value_.reset();
    return *this;
  }
  template <class U = T>
    requires detail::boxable_from<T, U> && std::is_assignable_v<T&, U&&>
  Boxed& operator=(U&& value) {
    if (value_) {
      *value_ = std::forward<U>(value);
    } else {
      value_ = std::make_unique<T>(std::forward<U>(value));
    }
    return *this;
  }

  template <class... Args>
  T& emplace(Args&&... args) {
    value_ = std::make_unique<T>(std::forward<Args>(args)...);
    return *value_;
  }
  void reset() noexcept { value_.reset(); }

  bool has_value() const noexcept { return value_ != nullptr; }
  explicit operator bool() const noexcept { return value_ != nullptr; }

  T& operator*() & noexcept { return *value_; }
  const T& operator*() const& noexcept { return *value_; }
  T&& operator*() && noexcept { return std::move(*value_); }
  T* operator->() noexcept { return value_.get(); }
  const T* operator->() const noexcept { return value_.get(); }
  T& value() & {
    if (!value_) throw std::bad_optional_access();
    return *value_;
  }
  const T& value() const& {
    if (!value_) throw std::bad_optional_access();
    return *value_;
  }
  T&& value() && {
    if (!value_) throw std::bad_optional_access();
    return std::move(*value_);
  }
  template <class U>
  T value_or(U&& fallback) const& {
    return value_ ? *value_ : static_cast<T>(std::forward<U>(fallback));
  }
  template <class U>
  T value_or(U&& fallback) && {
    return value_ ? std::move(*value_) : static_cast<T>(std::forward<U>(fallback));
  }
  std::optional<T> to_optional() const& { return value_ ? std::optional<T>(*value_) : std::nullopt; }
  std::optional<T> to_optional() && { return value_ ? std::optional<T>(std::move(*value_)) : std::nullopt; }

  // Equal as std::optional is: both empty, or both set to equal values. Against a std::optional
  // the same, in either order and for != too: C++20 rewrites them from this non-template, which
  // wins over <optional>'s templates (those would call two empty values different). Against a T
  // value: set and equal.
  friend bool operator==(const Boxed& a, const Boxed& b)
    requires std::equality_comparable<T>
  {
    if (!a.value_ || !b.value_) return !a.value_ && !b.value_;
    return *a.value_ == *b.value_;
  }
  friend bool operator==(const Boxed& a, const std::optional<T>& b)
    requires std::equality_comparable<T>
  {
    if (!a.value_ || !b) return !a.value_ && !b;
    return *a.value_ == *b;
  }
  friend bool operator==(const Boxed& a, std::nullopt_t) noexcept { return !a.value_; }
  template <class U>
    requires(!detail::is_boxed<U> && !detail::is_optional<U> && !std::is_same_v<U, std::nullopt_t> &&
             requires(const T& t, const U& u) {
               { t == u } -> std::convertible_to<bool>;
             })
  friend bool operator==(const Boxed& a, const U& b) {
    return a.value_ && *a.value_ == b;
  }

 private:
  std::unique_ptr<T> value_;
};

}  // namespace tasklane
