// The Qt tests' main: a QCoreApplication must exist before any QThread, QTimer or QThreadPool,
// and it must be created on the main thread. It runs headless (Qt Core only).
#include <gtest/gtest.h>

#include <QCoreApplication>

#if defined(__SANITIZE_THREAD__)
// libQt6Core and GLib (its event dispatcher) are not built with ThreadSanitizer. Their locks are
// futexes TSan cannot see, so the memory their own code touches through intercepted calls
// (memmove and realloc of Qt's event lists and pool queue, GLib's wake-up eventfd, QThread's
// QWaitCondition) shows up as races. called_from_lib makes TSan ignore every intercepted call
// made from inside those two libraries: their accesses, and also their pthread-based locking.
// That is stricter for our code, not looser: nothing of ours may rely on Qt's synchronisation
// to be race-free under TSan; every hand-off must go through something TSan sees (the
// OwnerMailbox and PoolWork mutexes, std::promise).
extern "C" const char* __tsan_default_suppressions() {
  return "called_from_lib:libQt6Core.so.6\n"
         "called_from_lib:libglib-2.0.so.0\n";
}
#endif

int main(int argc, char** argv) {
  QCoreApplication app(argc, argv);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
