#include "core/replication/peer_messages.h"

#include <functional>
#include <tuple>

#include "core/replication/message_codec.h"
#include "core/wire/frame.h"

namespace crdtsim::core {

namespace {

using message_codec::bounded_count;
using message_codec::decode_with;
using message_codec::frame_of;

void encode_prefix(Encoder& encoder, const TokenPrefix& prefix) {
  encoder.u8(prefix.depth);
  encoder.fixed64(prefix.bits);
}

TokenPrefix decode_prefix(Decoder& decoder) {
  TokenPrefix prefix;
  prefix.depth = decoder.u8();
  prefix.bits = decoder.fixed64();
  if (!decoder.ok()) {
    return prefix;
  }
  if (prefix.depth > TokenPrefix::kDepthMax) {
    decoder.fail("prefix depth " + std::to_string(prefix.depth) + " exceeds 64");
  } else if (prefix.depth < 64 && (prefix.bits & (~std::uint64_t{0} >> prefix.depth)) != 0) {
    decoder.fail("prefix has bits set below its depth");
  }
  return prefix;
}

}  // namespace

std::string_view message_kind_name(std::uint8_t kind) {
  switch (static_cast<PeerMessageKind>(kind)) {
    case PeerMessageKind::delta_batch:
      return "delta_batch";
    case PeerMessageKind::delta_ack:
      return "delta_ack";
    case PeerMessageKind::ae_compare:
      return "ae_compare";
    case PeerMessageKind::ae_entries:
      return "ae_entries";
    case PeerMessageKind::ae_states:
      return "ae_states";
    case PeerMessageKind::forward_request:
      return "forward_request";
    case PeerMessageKind::forward_reply:
      return "forward_reply";
    case PeerMessageKind::hot_keys_table:
      return "hot_keys_table";
    case PeerMessageKind::hot_key_handoff:
      return "hot_key_handoff";
    case PeerMessageKind::hot_key_handoff_ack:
      return "hot_key_ack";
    case PeerMessageKind::gc_envelope:
      return "gc_envelope";
    case PeerMessageKind::gc_prepare:
      return "gc_prepare";
    case PeerMessageKind::gc_prepared:
      return "gc_prepared";
    case PeerMessageKind::gc_commit:
      return "gc_commit";
    case PeerMessageKind::gc_fence:
      return "gc_fence";
    case PeerMessageKind::gc_fenced:
      return "gc_fenced";
    case PeerMessageKind::membership_table:
      return "membership_table";
    case PeerMessageKind::client_request:
      return "client_request";
    case PeerMessageKind::client_reply:
      return "client_reply";
  }
  return "unknown";
}

namespace {

// A DeltaBatch payload: the interval, then per entry the key, the origin
// and the delta's body. `entry_fields(entry)` gives (key, origin, delta).
template <class Range, class Fields>
Bytes delta_batch_frame(std::uint64_t first_seq, std::uint64_t last_seq, const Range& entries,
                        Fields&& entry_fields) {
  return frame_of(PeerMessageKind::delta_batch, [&](Encoder& encoder) {
    encoder.varint(first_seq);
    encoder.varint(last_seq);
    encoder.varint(entries.size());
    for (const auto& entry : entries) {
      const auto [key, origin, delta] = entry_fields(entry);
      encoder.string(key);
      encoder.varint(origin);
      delta->encode_body(encoder);
    }
  });
}

}  // namespace

Bytes encode_frame(const DeltaBatch& message) {
  return delta_batch_frame(
      message.first_seq, message.last_seq, message.entries, [](const DeltaBatch::Entry& entry) {
        return std::tuple(std::string_view(entry.key), entry.origin, &entry.delta);
      });
}

Bytes encode_delta_batch_frame(std::uint64_t first_seq, std::uint64_t last_seq,
                               std::span<const DeltaBatchEntryView> entries) {
  return delta_batch_frame(first_seq, last_seq, entries, [](const DeltaBatchEntryView& entry) {
    return std::tuple(entry.key, entry.origin, entry.delta);
  });
}

bool decode_payload(ByteView payload, DeltaBatch& message, std::string& error) {
  return decode_with(payload, error, [&](Decoder& decoder) {
    message.first_seq = decoder.varint();
    message.last_seq = decoder.varint();
    if (decoder.ok() && message.first_seq > message.last_seq) {
      decoder.fail("delta batch interval is empty");
    }
    const std::size_t count = bounded_count(decoder, 3, kBatchKeysMax, "delta batch entry");
    message.entries.clear();
    message.entries.reserve(count);  // bounded by kBatchKeysMax
    for (std::size_t index = 0; index < count && decoder.ok(); ++index) {
      // Decoded in place: a KeyState moved twice per entry costs more than
      // decoding a small delta.
      DeltaBatch::Entry& entry = message.entries.emplace_back();
      decoder.string(entry.key);
      entry.origin = decoder.varint32();
      KeyState::decode_body(decoder, entry.delta);
    }
  });
}

Bytes encode_frame(const DeltaAck& message) {
  return frame_of(PeerMessageKind::delta_ack, [&](Encoder& encoder) {
    encoder.varint(message.first_seq);
    encoder.varint(message.last_seq);
  });
}

bool decode_payload(ByteView payload, DeltaAck& message, std::string& error) {
  return decode_with(payload, error, [&](Decoder& decoder) {
    message.first_seq = decoder.varint();
    message.last_seq = decoder.varint();
    if (decoder.ok() && message.first_seq > message.last_seq) {
      decoder.fail("delta ack interval is empty");
    }
  });
}

Bytes encode_frame(const AeCompare& message) {
  return frame_of(PeerMessageKind::ae_compare, [&](Encoder& encoder) {
    encoder.varint(message.items.size());
    for (const AeCompare::Item& item : message.items) {
      encode_prefix(encoder, item.prefix);
      encoder.fixed64(item.summary.hash);
      encoder.varint(item.summary.count);
    }
  });
}

bool decode_payload(ByteView payload, AeCompare& message, std::string& error) {
  return decode_with(payload, error, [&](Decoder& decoder) {
    const std::size_t count = bounded_count(decoder, 18, kAePrefixesMax, "compare item");
    message.items.clear();
    for (std::size_t index = 0; index < count && decoder.ok(); ++index) {
      AeCompare::Item item;
      item.prefix = decode_prefix(decoder);
      item.summary.hash = decoder.fixed64();
      item.summary.count = decoder.varint();
      message.items.push_back(item);
    }
  });
}

Bytes encode_frame(const AeEntries& message) {
  return frame_of(PeerMessageKind::ae_entries, [&](Encoder& encoder) {
    encoder.varint(message.prefixes.size());
    for (const TokenPrefix& prefix : message.prefixes) {
      encode_prefix(encoder, prefix);
    }
    encoder.varint(message.entries.size());
    for (const AeEntries::Entry& entry : message.entries) {
      encoder.string(entry.key);
      encoder.fixed64(entry.digest);
    }
  });
}

bool decode_payload(ByteView payload, AeEntries& message, std::string& error) {
  return decode_with(payload, error, [&](Decoder& decoder) {
    const std::size_t prefixes = bounded_count(decoder, 9, kAePrefixesMax, "listed prefix");
    message.prefixes.clear();
    for (std::size_t index = 0; index < prefixes && decoder.ok(); ++index) {
      message.prefixes.push_back(decode_prefix(decoder));
    }
    const std::size_t entries = bounded_count(decoder, 9, kAeEntriesMax, "listed entry");
    message.entries.clear();
    for (std::size_t index = 0; index < entries && decoder.ok(); ++index) {
      AeEntries::Entry entry;
      decoder.string(entry.key);
      entry.digest = decoder.fixed64();
      message.entries.push_back(std::move(entry));
    }
  });
}

Bytes encode_frame(const AeStates& message) {
  return frame_of(PeerMessageKind::ae_states, [&](Encoder& encoder) {
    encoder.varint(message.states.size());
    for (const AeStates::State& state : message.states) {
      encoder.string(state.key);
      state.state.encode_body(encoder);
    }
    encoder.varint(message.wanted.size());
    for (const std::string& key : message.wanted) {
      encoder.string(key);
    }
  });
}

bool decode_payload(ByteView payload, AeStates& message, std::string& error) {
  return decode_with(payload, error, [&](Decoder& decoder) {
    const std::size_t states = bounded_count(decoder, 2, kAeStatesMax, "state");
    message.states.clear();
    for (std::size_t index = 0; index < states && decoder.ok(); ++index) {
      AeStates::State state;
      state.key = decoder.string();
      state.state = KeyState::decode_body(decoder);
      message.states.push_back(std::move(state));
    }
    const std::size_t wanted = bounded_count(decoder, 1, kAeEntriesMax, "wanted key");
    message.wanted.clear();
    for (std::size_t index = 0; index < wanted && decoder.ok(); ++index) {
      message.wanted.push_back(decoder.string());
    }
  });
}

Bytes encode_frame(const ForwardRequest& message) {
  return encode_forward_request_frame(message.forward_id, message.command);
}

Bytes encode_forward_request_frame(std::uint64_t forward_id, const Command& command) {
  return frame_of(PeerMessageKind::forward_request, [&](Encoder& encoder) {
    encoder.varint(forward_id);
    command.encode_body(encoder);
  });
}

bool decode_payload(ByteView payload, ForwardRequest& message, std::string& error) {
  return decode_with(payload, error, [&](Decoder& decoder) {
    message.forward_id = decoder.varint();
    Command::decode_body(decoder, message.command);
  });
}

Bytes encode_frame(const ForwardReply& message) {
  return encode_forward_reply_frame(message.forward_id, message.reply);
}

Bytes encode_forward_reply_frame(std::uint64_t forward_id, const Reply& reply) {
  return frame_of(PeerMessageKind::forward_reply, [&](Encoder& encoder) {
    encoder.varint(forward_id);
    reply.encode_body(encoder);
  });
}

bool decode_payload(ByteView payload, ForwardReply& message, std::string& error) {
  return decode_forward_reply(payload, message.forward_id, message.reply, error);
}

bool decode_forward_reply(ByteView payload, std::uint64_t& forward_id, Reply& reply,
                          std::string& error) {
  return decode_with(payload, error, [&](Decoder& decoder) {
    forward_id = decoder.varint();
    Reply::decode_body(decoder, reply);
  });
}

Bytes encode_frame(const ClientRequest& message) {
  return frame_of(PeerMessageKind::client_request, [&](Encoder& encoder) {
    encoder.varint(message.request_id);
    message.command.encode_body(encoder);
  });
}

bool decode_payload(ByteView payload, ClientRequest& message, std::string& error) {
  return decode_with(payload, error, [&](Decoder& decoder) {
    message.request_id = decoder.varint();
    Command::decode_body(decoder, message.command);
  });
}

Bytes encode_frame(const ClientReply& message) {
  return encode_client_reply_frame(message.request_id, message.reply);
}

Bytes encode_client_reply_frame(std::uint64_t request_id, const Reply& reply) {
  return frame_of(PeerMessageKind::client_reply, [&](Encoder& encoder) {
    encoder.varint(request_id);
    reply.encode_body(encoder);
  });
}

bool decode_payload(ByteView payload, ClientReply& message, std::string& error) {
  return decode_with(payload, error, [&](Decoder& decoder) {
    message.request_id = decoder.varint();
    Reply::decode_body(decoder, message.reply);
  });
}

}  // namespace crdtsim::core
