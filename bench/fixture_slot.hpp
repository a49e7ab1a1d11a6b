// fixture_slot: keeps one expensive fixture (a kernel holding a million tasks) alive across the
// calls Google Benchmark makes while it sizes its iterations, and frees it as soon as another
// fixture is asked for, so at most one big fixture lives at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace tasklane::bench {

struct FixtureSlot {
  std::shared_ptr<void> fixture;
  std::string key;
};

inline FixtureSlot& fixture_slot() {
  static FixtureSlot slot;
  return slot;
}

// The fixture for `key`, built by `make()` unless it is the one already held.
template <class Fixture, class Make>
Fixture& cached_fixture(const std::string& key, Make&& make) {
  FixtureSlot& slot = fixture_slot();
  if (slot.key != key || !slot.fixture) {
    slot.fixture.reset();  // free the old one before building the new one
    slot.key.clear();
    slot.fixture = std::shared_ptr<Fixture>(make());
    slot.key = key;
  }
  return *static_cast<Fixture*>(slot.fixture.get());
}

inline void release_fixture() {
  fixture_slot().fixture.reset();
  fixture_slot().key.clear();
}

}  // namespace tasklane::bench
