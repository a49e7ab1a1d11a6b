// UniqueFunction<R(Args...)>: a move-only std::function that keeps callables of up to 48 bytes in
// place, whatever they capture. libstdc++'s std::function keeps only trivially copyable callables
// of 16 bytes in place, so a lambda holding two shared_ptrs (the runtime and a completion handler)
// costs an allocation per call there; on the spawn path that was one allocation per task, twice.
// Being move-only, it also holds completion handlers that cannot be copied, with no shared_ptr
// around them.
//
// Calling an empty one throws std::bad_function_call, as std::function does. Made from an empty
// std::function or an empty UniqueFunction of another signature, it is empty too.
#pragma once

#include <cstddef>
#include <functional>
#include <new>
#include <type_traits>
#include <utility>

namespace tasklane::drivers {

template <class Signature>
class UniqueFunction;

namespace unique_function_detail {
// Wrappers that may be empty: one of them makes an empty UniqueFunction, not one that throws.
template <class T>
inline constexpr bool is_function_wrapper = false;
template <class S>
inline constexpr bool is_function_wrapper<std::function<S>> = true;
template <class S>
inline constexpr bool is_function_wrapper<UniqueFunction<S>> = true;  // of another signature
}  // namespace unique_function_detail

template <class R, class... Args>
class UniqueFunction<R(Args...)> {
 public:
  static constexpr std::size_t inline_size = 48;

  UniqueFunction() noexcept = default;
  UniqueFunction(std::nullptr_t) noexcept {}  // NOLINT: converts like std::function's

  template <class F, class D = std::decay_t<F>,
            class = std::enable_if_t<!std::is_same_v<D, UniqueFunction> && std::is_invocable_r_v<R, D&, Args...>>>
  UniqueFunction(F&& f) {  // NOLINT: converts from any callable, like std::function
    if constexpr (std::is_pointer_v<D> || std::is_member_pointer_v<D> || unique_function_detail::is_function_wrapper<D>) {
      if (!f) return;  // an empty target makes an empty UniqueFunction
    }
    if constexpr (in_place<D>) {
      ::new (static_cast<void*>(buffer_)) D(std::forward<F>(f));
      ops_ = &inline_ops<D>;
    } else {
      ::new (static_cast<void*>(buffer_)) D*(new D(std::forward<F>(f)));
      ops_ = &heap_ops<D>;
    }
  }

  UniqueFunction(UniqueFunction&& other) noexcept { take(other); }
  UniqueFunction& operator=(UniqueFunction&& other) noexcept {
    if (this != &other) {
      UniqueFunction incoming(std::move(other));  // first: `other` may live inside what reset() destroys
      reset();
      take(incoming);
    }
    return *this;
  }
  UniqueFunction& operator=(std::nullptr_t) noexcept {
    reset();
    return *this;
  }
  UniqueFunction(const UniqueFunction&) = delete;
  UniqueFunction& operator=(const UniqueFunction&) = delete;
  ~UniqueFunction() { reset(); }

  explicit operator bool() const noexcept { return ops_ != nullptr; }

  R operator()(Args... args) {
    if (!ops_) throw std::bad_function_call();
    return ops_->call(buffer_, std::forward<Args>(args)...);
  }

 private:
  struct Ops {
    R (*call)(void*, Args&&...);
    void (*move)(void* from, void* to) noexcept;  // move-constructs into `to`, destroys `from`
    void (*destroy)(void*) noexcept;
  };

  // std::invoke_r (C++23): a void signature drops what the callable returns.
  template <class D>
  static R call(D& callable, Args&&... args) {
    if constexpr (std::is_void_v<R>) {
      std::invoke(callable, std::forward<Args>(args)...);
    } else {
      return std::invoke(callable, std::forward<Args>(args)...);
    }
  }

  template <class D>
  static constexpr bool in_place =
      sizeof(D) <= inline_size && alignof(D) <= alignof(std::max_align_t) && std::is_nothrow_move_constructible_v<D>;

  template <class D>
  static constexpr Ops inline_ops{
      [](void* p, Args&&... args) -> R { return call(*static_cast<D*>(p), std::forward<Args>(args)...); },
      [](void* from, void* to) noexcept {
        D* source = static_cast<D*>(from);
        ::new (to) D(std::move(*source));
        source->~D();
      },
      [](void* p) noexcept { static_cast<D*>(p)->~D(); }};

  template <class D>
  static constexpr Ops heap_ops{
      [](void* p, Args&&... args) -> R { return call(**static_cast<D**>(p), std::forward<Args>(args)...); },
      [](void* from, void* to) noexcept { ::new (to) D*(*static_cast<D**>(from)); },
      [](void* p) noexcept { delete *static_cast<D**>(p); }};

  void take(UniqueFunction& other) noexcept {
    if (!other.ops_) return;
    other.ops_->move(other.buffer_, buffer_);
    ops_ = std::exchange(other.ops_, nullptr);
  }
  void reset() noexcept {
    if (const Ops* ops = std::exchange(ops_, nullptr)) ops->destroy(buffer_);
  }

  alignas(std::max_align_t) unsigned char buffer_[inline_size];
  const Ops* ops_ = nullptr;
};

}  // namespace tasklane::drivers
