#include "core/crdt/lww_register.h"

#include <utility>

namespace crdtsim::core {

namespace {

constexpr std::uint8_t kKindValue = 0;
constexpr std::uint8_t kKindTombstone = 1;

}  // namespace

void LwwWrite::encode_body(Encoder& encoder) const {
  assert(!tombstone || value.empty());
  timestamp.encode_body(encoder);
  encoder.u8(tombstone ? kKindTombstone : kKindValue);
  if (!tombstone) {
    encoder.string(value);
  }
}

LwwWrite LwwWrite::decode_body(Decoder& decoder) {
  LwwWrite write;
  write.timestamp = LwwTimestamp::decode_body(decoder);
  const std::uint8_t kind = decoder.u8();
  if (kind == kKindValue) {
    decoder.string(write.value);
  } else if (kind == kKindTombstone) {
    write.tombstone = true;
  } else {
    decoder.fail("unknown LWW write kind " + std::to_string(kind));
  }
  return write;
}

LwwRegister LwwRegister::holding(LwwWrite write) {
  assert(!write.tombstone || write.value.empty());
  LwwRegister result;
  result.write_ = std::move(write);
  return result;
}

LwwRegister LwwRegister::write(std::string value, const LwwTimestamp& timestamp) {
  return apply_local(LwwWrite{timestamp, false, std::move(value)});
}

LwwRegister LwwRegister::clear(const LwwTimestamp& timestamp) {
  return apply_local(LwwWrite{timestamp, true, {}});
}

LwwRegister LwwRegister::apply_local(LwwWrite write) {
  if (write_.has_value() && !(*write_ < write)) {
    return LwwRegister{};  // stale: the current write wins, nothing changes
  }
  write_ = write;
  return holding(std::move(write));
}

void LwwRegister::merge(const LwwRegister& other) {
  if (other.write_.has_value() && (!write_.has_value() || *write_ < *other.write_)) {
    write_ = other.write_;
  }
}

std::optional<std::string_view> LwwRegister::value() const {
  if (!write_.has_value() || write_->tombstone) {
    return std::nullopt;
  }
  return std::string_view(write_->value);
}

void LwwRegister::encode_body(Encoder& encoder) const {
  encoder.u8(write_.has_value() ? 1 : 0);
  if (write_.has_value()) {
    write_->encode_body(encoder);
  }
}

LwwRegister LwwRegister::decode_body(Decoder& decoder) {
  LwwRegister result;
  decode_body(decoder, result);
  return result;
}

void LwwRegister::decode_body(Decoder& decoder, LwwRegister& result) {
  const std::uint8_t present = decoder.u8();
  if (present == 1) {
    result.write_ = LwwWrite::decode_body(decoder);
  } else if (present != 0) {
    decoder.fail("LWW register presence byte must be 0 or 1");
  }
}

}  // namespace crdtsim::core
