// Context: a process's view of the simulation, forwarding to Simulation.

#include <utility>

#include "sim/check.h"
#include "sim/process.h"
#include "sim/simulation.h"
#include "sim/simulation_internal.h"

namespace crdtsim::sim {

std::uint32_t Context::process_count() const {
  return simulation_->process_count();
}

// send and send_owned are in simulation_messages.cc, with Simulation::send.

TimerId Context::arm_timer(TimeUs delay_us, std::uint32_t tag) {
  return simulation_->arm_timer(self_, delay_us, tag);
}

bool Context::cancel_timer(TimerId id) {
  return simulation_->cancel_timer(self_, id);
}

// The key's digest goes to the trace and, as its hash, to the disk.
bool Context::disk_write(std::string_view key, ByteView value) {
  const HashedKey hashed{key, fnv1a64(key)};
  const bool written = simulation_->slot(self_).disk.write(hashed, value);
  simulation_->record(TraceKind::disk_write, self_, kNoProcess,
                      static_cast<std::uint32_t>(value.size()), written ? 1U : 0U, hashed.digest);
  return written;
}

bool Context::disk_write_owned(std::string_view key, Bytes&& value) {
  const std::size_t size = value.size();
  const HashedKey hashed{key, fnv1a64(key)};
  const bool written = simulation_->slot(self_).disk.write_owned(hashed, std::move(value));
  simulation_->record(TraceKind::disk_write, self_, kNoProcess, static_cast<std::uint32_t>(size),
                      written ? 1U : 0U, hashed.digest);
  return written;
}

bool Context::disk_remove(std::string_view key) {
  const HashedKey hashed{key, fnv1a64(key)};
  const bool removed = simulation_->slot(self_).disk.remove(hashed);
  simulation_->record(TraceKind::disk_remove, self_, kNoProcess, 0, removed ? 1U : 0U,
                      hashed.digest);
  return removed;
}

const Bytes* Context::disk_read(std::string_view key) const {
  return simulation_->slot(self_).disk.read(key);
}

Disk::Contents Context::disk_contents() const {
  return simulation_->slot(self_).disk.contents();
}

void Context::disk_sync() {
  const std::size_t flushed = simulation_->slot(self_).disk.sync();
  simulation_->record(TraceKind::disk_sync, self_, kNoProcess, 0, flushed);
}

bool Context::fault(std::string_view name) {
  return simulation_->fault(self_, name);
}

void Context::cover(std::string_view name) {
  simulation_->cover_from(self_, name);
}

}  // namespace crdtsim::sim
