#include "harness/workload.h"

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <utility>

#include "sim/check.h"
#include "sim/types.h"

namespace crdtsim::harness {

namespace {

__extension__ using Uint128 = unsigned __int128;

constexpr std::uint64_t kOneQ32 = std::uint64_t{1} << 32U;

constexpr std::uint64_t isqrt(std::uint64_t n) {
  std::uint64_t root = 0;
  std::uint64_t bit = std::uint64_t{1} << 62U;
  while (bit > n) {
    bit >>= 2U;
  }
  while (bit != 0) {
    if (n >= root + bit) {
      n -= root + bit;
      root = (root >> 1U) + bit;
    } else {
      root >>= 1U;
    }
    bit >>= 2U;
  }
  return root;
}

// kExp2Negative[k] = 2^(-2^-(k+1)) in Q32: sqrt(1/2), its square root, ...
constexpr std::array<std::uint64_t, 32> make_exp2_table() {
  std::array<std::uint64_t, 32> table{};
  std::uint64_t value = kOneQ32 / 2;  // 2^-1
  for (std::uint64_t& entry : table) {
    value = isqrt(value << 32U);
    entry = value;
  }
  return table;
}
constexpr std::array<std::uint64_t, 32> kExp2Negative = make_exp2_table();
static_assert(kExp2Negative[0] == 3'037'000'499);  // floor(2^31.5)

// log2(value) in Q32 (32 integer bits, 32 fraction bits), for value >= 1:
// the fraction bit by bit, squaring the mantissa each step.
std::uint64_t log2_q32(std::uint32_t value) {
  CRDTSIM_CHECK(value >= 1);
  const auto exponent = static_cast<std::uint32_t>(std::bit_width(value) - 1);
  std::uint64_t mantissa = std::uint64_t{value} << (31U - exponent);  // Q31 in [1, 2)
  std::uint64_t fraction = 0;
  for (std::uint32_t bit = 0; bit < 32; ++bit) {
    mantissa = (mantissa * mantissa) >> 31U;
    if (mantissa >= (std::uint64_t{1} << 32U)) {
      mantissa >>= 1U;
      fraction |= std::uint64_t{1} << (31U - bit);
    }
  }
  return (std::uint64_t{exponent} << 32U) | fraction;
}

// Appends `value` in decimal, as std::to_string would, without its
// temporary string.
void append_decimal(std::string& out, std::uint64_t value) {
  std::array<char, 20> digits{};
  const std::to_chars_result end =
      std::to_chars(digits.data(), digits.data() + digits.size(), value);
  out.append(digits.data(), end.ptr);
}

std::string text_of(std::uint64_t value, char prefix) {
  std::string out(1, prefix);
  append_decimal(out, value);
  return out;
}

// "c<client>-<sequence>": a written value, unique per operation.
std::string value_of(std::uint32_t client, std::uint64_t sequence) {
  std::string value = text_of(client, 'c');
  value += '-';
  append_decimal(value, sequence);
  return value;
}

}  // namespace

std::uint64_t zipf_weight_q32(std::uint32_t rank, std::uint32_t exponent_milli) {
  CRDTSIM_CHECK(rank >= 1);
  const Uint128 exponent_q32 = Uint128{log2_q32(rank)} * exponent_milli / 1000U;
  const Uint128 integer_part = exponent_q32 >> 32U;
  if (integer_part >= 64) {
    return 1;
  }
  const auto fraction = static_cast<std::uint64_t>(exponent_q32 & 0xffff'ffffU);
  std::uint64_t weight = kOneQ32;
  for (std::uint32_t bit = 0; bit < 32; ++bit) {
    if ((fraction >> (31U - bit) & 1U) != 0) {
      weight = (weight * kExp2Negative[bit]) >> 32U;
    }
  }
  weight >>= static_cast<std::uint32_t>(integer_part);
  return std::max<std::uint64_t>(weight, 1);
}

Workload::Workload(const WorkloadSpec& spec) : spec_(&spec) {
  CRDTSIM_CHECK(spec.keys >= 1);
  const OperationMix& mix = spec.mix;
  for (const std::uint32_t weight : {mix.registers, mix.multi, mix.counters, mix.g_counters,
                                     mix.sets, mix.g_sets, mix.maps, mix.churn, mix.multi_del}) {
    family_total_ += weight;
    family_cumulative_.push_back(family_total_);
  }
  if (spec.distribution == KeyDistribution::zipfian) {
    zipf_cumulative_.reserve(spec.keys);
    std::uint64_t total = 0;
    for (std::uint32_t rank = 1; rank <= spec.keys; ++rank) {
      total += zipf_weight_q32(rank, spec.zipf_exponent_milli);
      zipf_cumulative_.push_back(total);
    }
  }
}

std::string Workload::key_name(Family family, std::uint32_t index) {
  static constexpr std::array<std::string_view, 9> kPrefixes = {
      "register:", "register:", "counter:",  "g_counter:", "set:",
      "g_set:",    "map:",      "register:", "register:"};
  // Composed on the stack and copied once into the string.
  const std::string_view prefix = kPrefixes[static_cast<std::size_t>(family)];
  std::array<char, 32> text{};  // the longest prefix (10) and 10 digits
  std::copy(prefix.begin(), prefix.end(), text.begin());
  const std::to_chars_result end =
      std::to_chars(text.data() + prefix.size(), text.data() + text.size(), index);
  return {text.data(), end.ptr};
}

Family Workload::draw_family(sim::Prng& random) const {
  CRDTSIM_CHECK(family_total_ > 0);
  const std::uint64_t draw = random.uniform(family_total_);
  const auto found = std::upper_bound(family_cumulative_.begin(), family_cumulative_.end(), draw);
  CRDTSIM_CHECK(found != family_cumulative_.end());
  return static_cast<Family>(found - family_cumulative_.begin());
}

std::uint32_t Workload::draw_key_index(sim::Prng& random) const {
  const std::uint32_t keys = spec_->keys;
  switch (spec_->distribution) {
    case KeyDistribution::uniform:
      break;
    case KeyDistribution::zipfian: {
      const std::uint64_t draw = random.uniform(zipf_cumulative_.back());
      const auto found = std::upper_bound(zipf_cumulative_.begin(), zipf_cumulative_.end(), draw);
      CRDTSIM_CHECK(found != zipf_cumulative_.end());
      return static_cast<std::uint32_t>(found - zipf_cumulative_.begin());
    }
    case KeyDistribution::hotspot: {
      const std::uint32_t hot = spec_->hotspot_keys;
      if (hot == 0 || hot >= keys) {
        break;
      }
      if (random.chance_ppm(std::min(spec_->hotspot_ppm, sim::kPpmOne))) {
        return static_cast<std::uint32_t>(random.uniform(hot));
      }
      return hot + static_cast<std::uint32_t>(random.uniform(keys - hot));
    }
  }
  return static_cast<std::uint32_t>(random.uniform(keys));
}

std::uint32_t Workload::shift_of(std::uint64_t sequence) const {
  if (spec_->rotate_every_ops == 0) {
    return 0;
  }
  const std::uint64_t phase = sequence / spec_->rotate_every_ops;
  return static_cast<std::uint32_t>((phase * (spec_->keys / 2)) % spec_->keys);
}

std::string Workload::draw_key(sim::Prng& random, Family family, std::uint32_t shift) const {
  const std::uint32_t index = draw_key_index(random);
  return key_name(family, shift == 0 ? index : (index + shift) % spec_->keys);
}

core::Command Workload::draw_command(sim::Prng& random, std::uint32_t client,
                                     std::uint64_t sequence) const {
  std::optional<core::Command> churn_undo;
  return draw_command(random, client, sequence, churn_undo);
}

core::Command Workload::draw_command(sim::Prng& random, std::uint32_t client,
                                     std::uint64_t sequence,
                                     std::optional<core::Command>& churn_undo) const {
  const Family family = draw_family(random);
  if (family == Family::churn) {
    return draw_churn(random, client, sequence, churn_undo);
  }
  if (family == Family::multi_del) {
    return draw_multi_del(random, sequence);
  }
  const bool read = random.chance_ppm(std::min(spec_->mix.reads_ppm, sim::kPpmOne));
  if (family == Family::multi) {
    return draw_multi(random, read, client, sequence);
  }
  const std::uint32_t shift = shift_of(sequence);
  if (read) {
    return draw_read(random, family, shift);
  }
  return draw_write(random, family, client, sequence, shift);
}

core::Command Workload::draw_read(sim::Prng& random, Family family, std::uint32_t shift) const {
  core::Command command;
  command.keys.push_back(draw_key(random, family, shift));
  switch (family) {
    case Family::registers:
    case Family::multi:
    case Family::churn:      // not drawn here (draw_churn)
    case Family::multi_del:  // not drawn here (draw_multi_del)
    case Family::counters:
      command.kind = core::CommandKind::get;
      break;
    case Family::g_counters:
      command.kind = core::CommandKind::gget;
      break;
    case Family::sets: {
      const std::uint64_t which = random.uniform(3);
      command.kind = which == 0   ? core::CommandKind::smembers
                     : which == 1 ? core::CommandKind::sismember
                                  : core::CommandKind::scard;
      if (command.kind == core::CommandKind::sismember) {
        command.args.push_back(text_of(random.uniform(kMemberPool), 'm'));
      }
      break;
    }
    case Family::g_sets:
      command.kind = core::CommandKind::gsmembers;
      break;
    case Family::maps:
      if (random.uniform(2) == 0) {
        command.kind = core::CommandKind::hget;
        command.args.push_back(text_of(random.uniform(kFieldPool), 'f'));
      } else {
        command.kind = core::CommandKind::hgetall;
      }
      break;
  }
  return command;
}

core::Command Workload::draw_write(sim::Prng& random, Family family, std::uint32_t client,
                                   std::uint64_t sequence, std::uint32_t shift) const {
  core::Command command;
  command.keys.push_back(draw_key(random, family, shift));
  // Writes per family: SET 90% / DEL 10%; INCRBY / DECRBY; GINCRBY;
  // SADD 45% / SREM 45% / DEL 10%; GSADD; HSET 45% / HDEL 45% / DEL 10%.
  const std::uint64_t percent = random.uniform(100);
  const std::uint64_t members = 1 + random.uniform(2);
  switch (family) {
    case Family::registers:
    case Family::multi:
    case Family::churn:      // not drawn here (draw_churn)
    case Family::multi_del:  // not drawn here (draw_multi_del)
      command.kind = percent < 90 ? core::CommandKind::set : core::CommandKind::del;
      if (command.kind == core::CommandKind::set) {
        command.args.push_back(value_of(client, sequence));
      }
      break;
    case Family::counters:
      command.kind = percent < 50 ? core::CommandKind::incrby : core::CommandKind::decrby;
      command.amount = random.range(1, kAmountMax);
      break;
    case Family::g_counters:
      command.kind = core::CommandKind::gincrby;
      command.amount = random.range(1, kAmountMax);
      break;
    case Family::sets:
    case Family::g_sets:
      command.kind = family == Family::g_sets ? core::CommandKind::gsadd
                     : percent < 45           ? core::CommandKind::sadd
                     : percent < 90           ? core::CommandKind::srem
                                              : core::CommandKind::del;
      if (command.kind != core::CommandKind::del) {
        command.args.reserve(members);
        for (std::uint64_t index = 0; index < members; ++index) {
          command.args.push_back(text_of(random.uniform(kMemberPool), 'm'));
        }
      }
      break;
    case Family::maps:
      command.kind = percent < 45   ? core::CommandKind::hset
                     : percent < 90 ? core::CommandKind::hdel
                                    : core::CommandKind::del;
      if (command.kind != core::CommandKind::del) {
        command.args.push_back(text_of(random.uniform(kFieldPool), 'f'));
      }
      if (command.kind == core::CommandKind::hset) {
        command.args.push_back(value_of(client, sequence));
      }
      break;
  }
  return command;
}

core::Command Workload::draw_churn(sim::Prng& random, std::uint32_t client, std::uint64_t sequence,
                                   std::optional<core::Command>& churn_undo) const {
  if (churn_undo) {
    core::Command undo = std::move(*churn_undo);
    churn_undo.reset();
    return undo;
  }
  std::string item = text_of(client, 'x');
  item += '-';
  append_decimal(item, sequence);
  std::string value = value_of(client, sequence);
  core::Command command;
  core::Command undo;
  switch (random.uniform(5)) {
    case 0: {
      std::string key = text_of(client, 'c');
      key.insert(0, "register:");
      key += '-';
      append_decimal(key, sequence);
      command.kind = core::CommandKind::set;
      command.keys = {key};
      command.args = {std::move(value)};
      undo.kind = core::CommandKind::del;
      undo.keys = {std::move(key)};
      break;
    }
    case 1:
      command.kind = core::CommandKind::sadd;
      command.keys = {draw_key(random, Family::sets, 0)};
      command.args = {item};
      undo.kind = core::CommandKind::srem;
      undo.keys = command.keys;
      undo.args = {std::move(item)};
      break;
    case 3:
      // A set key of the shared churn pool: emptied again by the SREM (and by
      // other clients' removes), so dead set keys come and go and are
      // re-created, often by another writer, while replicas may still hold
      // the collected state.
      command.kind = core::CommandKind::sadd;
      command.keys = {text_of(random.uniform(kChurnKeyPool), 'k')};
      command.keys.front().insert(0, "churn-set:");
      command.args = {item};
      undo.kind = core::CommandKind::srem;
      undo.keys = command.keys;
      undo.args = {std::move(item)};
      break;
    case 4:
      // A counter key of the shared churn pool, deleted (reset) again.
      command.kind = core::CommandKind::incrby;
      command.keys = {text_of(random.uniform(kChurnKeyPool), 'k')};
      command.keys.front().insert(0, "churn-counter:");
      command.amount = 1 + static_cast<std::int64_t>(random.uniform(9));
      undo.kind = core::CommandKind::del;
      undo.keys = command.keys;
      break;
    default:
      command.kind = core::CommandKind::hset;
      command.keys = {draw_key(random, Family::maps, 0)};
      command.args = {item, std::move(value)};
      undo.kind = core::CommandKind::hdel;
      undo.keys = command.keys;
      undo.args = {std::move(item)};
      break;
  }
  churn_undo = std::move(undo);
  return command;
}

core::Command Workload::draw_multi(sim::Prng& random, bool read, std::uint32_t client,
                                   std::uint64_t sequence) const {
  core::Command command;
  command.kind = read ? core::CommandKind::mget : core::CommandKind::mset;
  const std::uint64_t count = 2 + random.uniform(kMultiKeysMax - 1);
  for (std::uint64_t index = 0; index < count; ++index) {
    std::string key = draw_key(random, Family::registers, shift_of(sequence));
    if (std::find(command.keys.begin(), command.keys.end(), key) != command.keys.end()) {
      continue;  // a skewed distribution may draw one key twice
    }
    command.keys.push_back(std::move(key));
    if (!read) {
      std::string value = value_of(client, sequence);
      value += '.';
      append_decimal(value, index);
      command.args.push_back(std::move(value));
    }
  }
  return command;
}

core::Command Workload::draw_multi_del(sim::Prng& random, std::uint64_t sequence) const {
  static constexpr std::array<Family, 4> kResettable = {Family::registers, Family::counters,
                                                        Family::sets, Family::maps};
  core::Command command;
  command.kind = core::CommandKind::del;
  const std::uint32_t shift = shift_of(sequence);
  const std::uint64_t count = 2 + random.uniform(kMultiKeysMax - 1);
  for (std::uint64_t index = 0; index < count; ++index) {
    const Family family = kResettable[random.uniform(kResettable.size())];
    std::string key = draw_key(random, family, shift);
    if (std::find(command.keys.begin(), command.keys.end(), key) != command.keys.end()) {
      continue;  // one key drawn twice: the DEL names it once
    }
    command.keys.push_back(std::move(key));
  }
  return command;
}

}  // namespace crdtsim::harness
