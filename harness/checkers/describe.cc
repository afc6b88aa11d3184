#include "harness/checkers/describe.h"

#include <vector>

namespace crdtsim::harness {

namespace {

constexpr std::size_t kShownMax = 6;

std::string join_limited(const std::vector<std::string>& items) {
  std::string result = "{";
  for (std::size_t index = 0; index < items.size() && index < kShownMax; ++index) {
    if (index > 0) {
      result += ", ";
    }
    result += items[index];
  }
  if (items.size() > kShownMax) {
    result += ", ... (";
    result += std::to_string(items.size() - kShownMax);
    result += " more)";
  }
  result += "}";
  return result;
}

std::string describe_value(const core::KeyValue& value) {
  if (const auto* reg = std::get_if<core::LwwRegister>(&value)) {
    if (!reg->last_write()) {
      return "register (empty)";
    }
    std::string result = reg->cleared() ? "register (deleted)" : "register \"";
    if (!reg->cleared()) {
      result += reg->last_write()->value;
      result += "\"";
    }
    result += " @";
    result += describe(reg->last_write()->timestamp);
    return result;
  }
  if (const auto* counter = std::get_if<core::CausalCounter>(&value)) {
    return "counter " + std::to_string(counter->value());
  }
  if (const auto* counter = std::get_if<core::GCounter>(&value)) {
    return "g-counter " + std::to_string(counter->value());
  }
  if (const auto* set = std::get_if<core::ORSet>(&value)) {
    return "set " + join_limited(set->elements());
  }
  if (const auto* set = std::get_if<core::GSet>(&value)) {
    return "g-set " +
           join_limited(std::vector<std::string>(set->elements().begin(), set->elements().end()));
  }
  if (const auto* map = std::get_if<core::LwwMap>(&value)) {
    std::vector<std::string> fields;
    for (const std::string& field : map->fields()) {
      std::string item = field;
      item += "=";
      item += std::string(map->get(field).value_or(""));
      fields.push_back(std::move(item));
    }
    return "map " + join_limited(fields);
  }
  return "?";
}

}  // namespace

std::string describe(const core::LwwTimestamp& timestamp) {
  std::string result = "(";
  result += std::to_string(timestamp.time);
  result += ",";
  result += std::to_string(timestamp.logical);
  result += ",r";
  result += std::to_string(timestamp.replica);
  result += ")";
  return result;
}

std::string describe(const core::KeyState* state) {
  if (state == nullptr || state->empty()) {
    return "none";
  }
  const core::KeySlot* slot = state->slot(state->visible_type());
  if (slot == nullptr) {
    return "none";
  }
  std::string result = describe_value(slot->value);
  if (state->slots().size() > 1) {
    result += " (+";
    result += std::to_string(state->slots().size() - 1);
    result += " hidden type slot(s))";
  }
  return result;
}

std::string describe(const Operation& op) {
  std::string fraction = std::to_string(op.invoke_us % 1'000'000);
  fraction.insert(0, 6 - fraction.size(), '0');
  std::string text = "op " + std::to_string(op.id) + " (session " + std::to_string(op.session) +
                     ": " + std::string(core::command_name(op.command.kind)) + " sent to r" +
                     std::to_string(op.replica);
  if (op.reply.has_value() && op.reply->metadata.executed_by != op.replica) {
    text += ", executed by r" + std::to_string(op.reply->metadata.executed_by);
  }
  return text + ", invoked " + std::to_string(op.invoke_us / 1'000'000) + "." + fraction + " s)";
}

core::Dot first_missing_dot(const core::CausalContext& wanted, const core::CausalContext& held) {
  for (const auto& [replica, counter] : wanted.version_vector()) {
    for (std::uint64_t index = counter; index >= 1; --index) {
      if (!held.contains(core::Dot{replica, index})) {
        return core::Dot{replica, index};
      }
    }
  }
  for (const core::Dot& dot : wanted.dot_cloud()) {
    if (!held.contains(dot)) {
      return dot;
    }
  }
  return core::Dot{};
}

}  // namespace crdtsim::harness
