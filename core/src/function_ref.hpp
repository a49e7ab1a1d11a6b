// FunctionRef: a callable borrowed, not owned: an object pointer and a function that calls it. The
// spawn checks ask the kernel a few questions through callbacks; a std::function each was built
// and destroyed on every spawn (~4 % of a spawn -> start -> complete cycle) to be called rarely.
// The callable must outlive the FunctionRef: bind named objects, never temporaries.
#pragma once

#include <memory>
#include <type_traits>
#include <utility>

namespace tasklane::detail {

template <class Signature>
class FunctionRef;

template <class R, class... Args>
class FunctionRef<R(Args...)> {
 public:
  template <class F, class = std::enable_if_t<!std::is_same_v<std::remove_cvref_t<F>, FunctionRef> &&
                                              std::is_invocable_r_v<R, F&, Args...>>>
  FunctionRef(F& callable) noexcept  // NOLINT(google-explicit-constructor): a borrowed callback
      : object_(const_cast<void*>(static_cast<const void*>(std::addressof(callable)))),
        call_([](void* object, Args... args) -> R {
          return (*static_cast<std::remove_reference_t<F>*>(object))(std::forward<Args>(args)...);
        }) {}
  template <class F, class = std::enable_if_t<!std::is_same_v<std::remove_cvref_t<F>, FunctionRef> &&
                                              !std::is_lvalue_reference_v<F>>>
  FunctionRef(F&& temporary) = delete;  // it would dangle at the end of the statement

  R operator()(Args... args) const { return call_(object_, std::forward<Args>(args)...); }

 private:
  void* object_;
  R (*call_)(void*, Args...);
};

}  // namespace tasklane::detail
