#pragma once
// Workload: turns a WorkloadSpec into a stream of commands. One Workload is
// built per run (it precomputes the key distribution) and shared, read-only,
// by every client; each client draws from its own random stream.
//
// Keys are "<family>:<n>", n in [0, keys): register, counter, g_counter, set,
// g_set, map (MSET/MGET use register keys; a multi-key DEL names keys of
// several families). Key n = 0 is the hottest under
// the Zipfian and hotspot distributions. Written values are unique per
// operation ("c<client>-<n>"), so checkers can tell writes apart; set members
// come from a pool of kMemberPool and map fields from a pool of kFieldPool,
// so that adds and removes of one element meet.
//
// No floating point: the Zipfian weights are fixed point (see
// zipf_weight_q32), draws use the project's unbiased bounded integers.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/store/command.h"
#include "harness/scenario.h"
#include "sim/prng.h"

namespace crdtsim::harness {

enum class Family : std::uint8_t {
  registers,
  multi,
  counters,
  g_counters,
  sets,
  g_sets,
  maps,
  churn,
  multi_del
};

// 2^32 / rank^(exponent_milli / 1000), in fixed point, for rank >= 1: the
// Zipfian weight of the rank-th most popular key (rank 1 weighs 2^32).
// Integer arithmetic only (log2 and exp2 by repeated squaring and square
// roots); accurate to about 1e-6 relative (plus the truncation to an
// integer), never below 1.
std::uint64_t zipf_weight_q32(std::uint32_t rank, std::uint32_t exponent_milli);

class Workload {
 public:
  static constexpr std::uint32_t kMemberPool = 8;
  static constexpr std::uint32_t kFieldPool = 4;
  static constexpr std::int64_t kAmountMax = 5;
  static constexpr std::uint32_t kMultiKeysMax = 3;

  // Requires spec.keys >= 1. Borrows `spec`, which must outlive this.
  explicit Workload(const WorkloadSpec& spec);

  // Whether any family has a non-zero weight.
  bool has_operations() const { return family_total_ > 0; }
  Family draw_family(sim::Prng& random) const;
  // A key index in [0, keys) from the configured distribution.
  std::uint32_t draw_key_index(sim::Prng& random) const;
  // The next command of `client`; `sequence` numbers its operations (from 0)
  // and makes written values unique. Requires has_operations().
  core::Command draw_command(sim::Prng& random, std::uint32_t client, std::uint64_t sequence) const;
  // The same, with the client's churn state: the command that deletes the
  // item its last churn operation created, if that is still to come.
  core::Command draw_command(sim::Prng& random, std::uint32_t client, std::uint64_t sequence,
                             std::optional<core::Command>& churn_undo) const;

  const WorkloadSpec& spec() const { return *spec_; }
  static std::string key_name(Family family, std::uint32_t index);

 private:
  // `shift`: how far the popularity ranking has moved (rotate_every_ops).
  std::uint32_t shift_of(std::uint64_t sequence) const;
  std::string draw_key(sim::Prng& random, Family family, std::uint32_t shift) const;
  core::Command draw_read(sim::Prng& random, Family family, std::uint32_t shift) const;
  // The value a SET or HSET writes is value_of(client, sequence), built only
  // for those.
  core::Command draw_write(sim::Prng& random, Family family, std::uint32_t client,
                           std::uint64_t sequence, std::uint32_t shift) const;
  // Churn (for tombstone GC): a client alternates between creating an item no
  // operation named before and deleting the item it created last:
  //   SET register:c<client>-<n> v   then  DEL register:c<client>-<n>
  //   SADD set:<k> x<client>-<n>     then  SREM set:<k> x<client>-<n>
  //   HSET map:<k> x<client>-<n> v   then  HDEL map:<k> x<client>-<n>
  //   SADD churn-set:k<j> x<client>-<n>  then  SREM churn-set:k<j> x<client>-<n>
  //   INCRBY churn-counter:k<j> a    then  DEL churn-counter:k<j>
  // (j < kChurnKeyPool, shared by all clients: set and counter keys are
  // emptied, collected and re-created over and over), so live data stays at
  // about one item per client while the history (and whatever deletion
  // leaves behind) grows with the number of operations.
  static constexpr std::uint64_t kChurnKeyPool = 64;
  core::Command draw_churn(sim::Prng& random, std::uint32_t client, std::uint64_t sequence,
                           std::optional<core::Command>& churn_undo) const;
  core::Command draw_multi(sim::Prng& random, bool read, std::uint32_t client,
                           std::uint64_t sequence) const;
  // DEL of 2..kMultiKeysMax distinct keys, each of a family drawn among
  // registers, counters, sets and maps (the families DEL resets).
  core::Command draw_multi_del(sim::Prng& random, std::uint64_t sequence) const;

  const WorkloadSpec* spec_;
  std::vector<std::uint64_t> family_cumulative_;  // indexed by Family
  std::uint64_t family_total_ = 0;
  std::vector<std::uint64_t> zipf_cumulative_;  // zipfian only: by key index
};

}  // namespace crdtsim::harness
