#pragma once
// Messages between replicas. Each travels as one wire frame (core/wire/frame.h)
// whose kind byte is the PeerMessageKind and whose payload is the message's
// canonical encoding. Every message is self-contained: losing, duplicating or
// reordering any of them is safe (deltas and states are joined; acks are
// maxed; anti-entropy rounds restart from the root).

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/codec/bytes.h"
#include "core/replication/merkle_tree.h"
#include "core/store/command.h"
#include "core/store/key_state.h"
#include "core/types.h"

namespace crdtsim::core {

enum class PeerMessageKind : std::uint8_t {
  delta_batch = 1,
  delta_ack = 2,
  ae_compare = 3,
  ae_entries = 4,
  ae_states = 5,
  forward_request = 6,
  forward_reply = 7,
  // Hot keys (core/replication/hot_keys.h).
  hot_keys_table = 8,
  hot_key_handoff = 9,
  hot_key_handoff_ack = 10,
  // Tombstone GC (core/replication/tombstone_gc.h); only while it is enabled.
  gc_envelope = 11,
  gc_prepare = 12,
  gc_prepared = 13,
  gc_commit = 14,
  gc_fence = 15,  // membership on: the fence phase (GcFenceRound)
  // Client <-> replica frames share the numbering so one byte tells all.
  client_request = 16,
  client_reply = 17,
  // Membership (core/replication/membership.h); only while it is enabled.
  membership_table = 18,
  // Tombstone GC with membership on: the answer to gc_fence.
  gc_fenced = 19,
};
inline constexpr std::uint8_t kPeerMessageKindMax = 19;
std::string_view message_kind_name(std::uint8_t kind);

// Bounds on one message, so that a batch never grows without limit.
inline constexpr std::size_t kBatchKeysMax = 512;
inline constexpr std::size_t kAePrefixesMax = 256;
inline constexpr std::size_t kAeEntriesMax = 1024;
inline constexpr std::size_t kAeStatesMax = 256;

// Push gossip: the joined deltas of the sender's log entries
// [first_seq, last_seq] routed to the receiver.
struct DeltaBatch {
  struct Entry {
    std::string key;
    ReplicaId origin = 0;  // the replica whose write produced the delta
    KeyState delta;
  };
  std::uint64_t first_seq = 0;
  std::uint64_t last_seq = 0;
  std::vector<Entry> entries;
};

// Acknowledges a DeltaBatch's interval. The sender advances its cursor only
// when the interval starts at or before the cursor: an interval past a gap
// (an earlier batch lost) acknowledges nothing.
struct DeltaAck {
  std::uint64_t first_seq = 0;
  std::uint64_t last_seq = 0;
};

// Anti-entropy: "here are my summaries of these prefixes".
struct AeCompare {
  struct Item {
    TokenPrefix prefix;
    MerkleTree::Summary summary;
  };
  std::vector<Item> items;
};

// Anti-entropy: "here is my listing under these prefixes".
struct AeEntries {
  struct Entry {
    std::string key;
    std::uint64_t digest = 0;
  };
  std::vector<TokenPrefix> prefixes;
  std::vector<Entry> entries;
};

// Anti-entropy: "merge these states; send me the states of these keys".
struct AeStates {
  struct State {
    std::string key;
    KeyState state;
  };
  std::vector<State> states;
  std::vector<std::string> wanted;
};

struct ForwardRequest {
  std::uint64_t forward_id = 0;
  Command command;
};

struct ForwardReply {
  std::uint64_t forward_id = 0;
  Reply reply;
};

struct ClientRequest {
  std::uint64_t request_id = 0;
  Command command;
};

struct ClientReply {
  std::uint64_t request_id = 0;
  Reply reply;
};

// Frame encoders: one complete wire frame per message.
Bytes encode_frame(const DeltaBatch& message);
// A DeltaBatch entry by reference, for encoding a batch without building it.
struct DeltaBatchEntryView {
  std::string_view key;
  ReplicaId origin = 0;
  const KeyState* delta = nullptr;
};
// The same bytes as encode_frame of the DeltaBatch these views describe.
Bytes encode_delta_batch_frame(std::uint64_t first_seq, std::uint64_t last_seq,
                               std::span<const DeltaBatchEntryView> entries);
Bytes encode_frame(const DeltaAck& message);
Bytes encode_frame(const AeCompare& message);
Bytes encode_frame(const AeEntries& message);
Bytes encode_frame(const AeStates& message);
Bytes encode_frame(const ForwardRequest& message);
// encode_frame(ForwardRequest{forward_id, command}) without copying `command`.
Bytes encode_forward_request_frame(std::uint64_t forward_id, const Command& command);
Bytes encode_frame(const ForwardReply& message);
// encode_frame(ForwardReply{forward_id, reply}) without moving or copying `reply`.
Bytes encode_forward_reply_frame(std::uint64_t forward_id, const Reply& reply);
Bytes encode_frame(const ClientRequest& message);
Bytes encode_frame(const ClientReply& message);
// encode_frame(ClientReply{request_id, reply}) without moving or copying `reply`.
Bytes encode_client_reply_frame(std::uint64_t request_id, const Reply& reply);

// Payload decoders: `payload` is a frame's payload (after parse_frame).
// Each returns false and sets `error` on malformed input.
bool decode_payload(ByteView payload, DeltaBatch& message, std::string& error);
bool decode_payload(ByteView payload, DeltaAck& message, std::string& error);
bool decode_payload(ByteView payload, AeCompare& message, std::string& error);
bool decode_payload(ByteView payload, AeEntries& message, std::string& error);
bool decode_payload(ByteView payload, AeStates& message, std::string& error);
// The command decodes in place, reusing the storage of the one `message` holds.
bool decode_payload(ByteView payload, ForwardRequest& message, std::string& error);
// The reply decodes in place: `message` must hold a default Reply.
bool decode_payload(ByteView payload, ForwardReply& message, std::string& error);
// The same into `forward_id` and `reply` (a default Reply), for a receiver
// that decodes the reply where it keeps it.
bool decode_forward_reply(ByteView payload, std::uint64_t& forward_id, Reply& reply,
                          std::string& error);
// As for ForwardRequest.
bool decode_payload(ByteView payload, ClientRequest& message, std::string& error);
// As for ForwardReply: `message` must hold a default Reply.
bool decode_payload(ByteView payload, ClientReply& message, std::string& error);

}  // namespace crdtsim::core
