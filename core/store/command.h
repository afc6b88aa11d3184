#pragma once
// Client commands and replies: the store's Redis-flavoured interface.
//
// A command names one family of CRDT by its verb; the key must hold that type
// (or not exist) at the replica that executes it, otherwise the reply is
// WRONGTYPE. Replies carry, besides the value, the metadata a checker needs:
// which replicas were written, the write's LWW timestamp or dots, and the
// executing replica's Lamport clock.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock/lww_timestamp.h"
#include "core/codec/bytes.h"
#include "core/crdt/causal_context.h"
#include "core/crdt/dot.h"
#include "core/store/out_of_line.h"
#include "core/types.h"

namespace crdtsim::core {

// The CRDT a key holds. Numbers are part of the encoding: never reuse one.
enum class ValueType : std::uint8_t {
  none = 0,          // the key does not exist
  lww_register = 1,  // SET/GET
  pn_counter = 2,    // INCR/DECR (a resettable PN-counter)
  g_counter = 3,     // GINCRBY/GGET
  or_set = 4,        // SADD/SREM/...
  g_set = 5,         // GSADD/GSMEMBERS
  lww_map = 6,       // HSET/HGET/...
  mv_register = 7,   // SET/GET at the causal level (a multi-value register)
};
inline constexpr std::uint8_t kValueTypeMax = 7;
std::string_view value_type_name(ValueType type);

enum class CommandKind : std::uint8_t {
  // registers (LWW)
  get = 1,     // keys[0]
  set = 2,     // keys[0], args[0] = value
  del = 3,     // keys (one or more); any type but grow-only ones
  mset = 4,    // keys[i] = args[i]
  mget = 5,    // keys
  exists = 6,  // keys; reply: integer count of existing keys
  type = 7,    // keys[0]; reply: status string (type name or "none")
  // PN-counter
  incr = 10,    // keys[0]
  incrby = 11,  // keys[0], amount
  decr = 12,    // keys[0]
  decrby = 13,  // keys[0], amount
  // G-counter
  gincrby = 14,  // keys[0], amount >= 0
  gget = 15,     // keys[0]
  // OR-Set
  sadd = 20,       // keys[0], args = members
  srem = 21,       // keys[0], args = members
  smembers = 22,   // keys[0]
  sismember = 23,  // keys[0], args[0]
  scard = 24,      // keys[0]
  // G-Set
  gsadd = 25,      // keys[0], args = members
  gsmembers = 26,  // keys[0]
  // LWW-Map
  hset = 30,     // keys[0], args = field, value, field, value, ...
  hget = 31,     // keys[0], args[0] = field
  hdel = 32,     // keys[0], args = fields
  hgetall = 33,  // keys[0]
};
std::string_view command_name(CommandKind kind);
bool is_write(CommandKind kind);

// Per key, a set of update dots (see KeyState::versions): what a session has
// observed of the key (a session token), or what a replica's state of the key
// holds (reply metadata). Sorted by key, each key once.
using KeyVersions = std::vector<std::pair<std::string, CausalContext>>;

// Joins `context` into `versions` under `key`, keeping the order.
void merge_key_versions(KeyVersions& versions, const std::string& key,
                        const CausalContext& context);
// The entry of `key`, or nullptr.
const CausalContext* find_key_versions(const KeyVersions& versions, std::string_view key);
// Joins every entry of `other` into `versions`. Returns true if it grew.
bool merge_key_versions(KeyVersions& versions, const KeyVersions& other);
// Nested encoding: count, then per entry the key and the context. The decoder
// rejects keys out of order or repeated.
void encode_key_versions(Encoder& encoder, const KeyVersions& versions);
KeyVersions decode_key_versions(Decoder& decoder);

struct Command {
  CommandKind kind = CommandKind::get;
  std::vector<std::string> keys;
  std::vector<std::string> args;
  std::int64_t amount = 0;  // INCRBY/DECRBY/GINCRBY
  // The session token: for each key the session observed, the update dots it
  // saw (written or read). A replica executes the command only if its state of
  // every named key holds them (docs/consistency.md, session guarantees).
  // Empty for commands outside a session. Encoded only when non-empty, so a
  // command without a session has the same bytes as before sessions existed.
  KeyVersions session;

  friend bool operator==(const Command&, const Command&) = default;
  void encode_body(Encoder& encoder) const;
  static Command decode_body(Decoder& decoder);
  // The same into `command`, replacing all of it (a default Command on
  // failure) but reusing its vectors' and strings' storage.
  static void decode_body(Decoder& decoder, Command& command);
};

// Checks arity and argument shapes (not types of keys). Returns an error
// message, or nullopt when the command is well formed.
std::optional<std::string> validate(const Command& command);

enum class ReplyStatus : std::uint8_t {
  ok = 0,
  wrong_type = 1,      // WRONGTYPE: the key holds another type at this replica
  not_supported = 2,   // e.g. DEL of a grow-only key
  bad_request = 3,     // malformed command
  unavailable = 4,     // the replicas of a key could not be reached in time;
                       // a write may or may not have taken effect
  overflow = 5,        // a counter entry would overflow; nothing changed
  session_behind = 6,  // the executing replica's state is behind the session
                       // token; nothing changed, retry (it fetches what is missing)
};
std::string_view reply_status_name(ReplyStatus status);

// The value of a reply, shaped like a Redis reply.
struct ReplyValue {
  enum class Kind : std::uint8_t {
    nil = 0,
    integer = 1,
    text = 2,        // a bulk string (GET) or a status (TYPE)
    list = 3,        // SMEMBERS, GSMEMBERS (sorted), HGETALL (field, value, ...)
    maybe_list = 4,  // MGET: one optional string per key
    // MGET at the causal level when some key holds several siblings: per
    // key, its sibling values (sorted, distinct; empty for a missing key).
    // With at most one value per key MGET answers maybe_list, as GET answers
    // text for one sibling and a list for several.
    sibling_lists = 5,
  };
  Kind kind = Kind::nil;
  std::int64_t integer = 0;
  std::string text;
  std::vector<std::string> list;
  std::vector<std::optional<std::string>> maybe_list;
  std::vector<std::vector<std::string>> sibling_lists;

  static ReplyValue nil() { return {}; }
  static ReplyValue of_integer(std::int64_t value);
  static ReplyValue of_text(std::string value);
  static ReplyValue of_list(std::vector<std::string> values);
  static ReplyValue of_maybe_list(std::vector<std::optional<std::string>> values);
  // An MGET answer from each key's values: maybe_list when every key has at
  // most one, else sibling_lists.
  static ReplyValue of_mget(std::vector<std::vector<std::string>> values);
  // The values per key of an MGET answer of either kind (empty when nil).
  std::vector<std::vector<std::string>> mget_values() const;

  friend bool operator==(const ReplyValue&, const ReplyValue&) = default;
};

// Reply metadata that only some configurations produce: version tracking
// (sessions, the causal level) and tombstone GC. Empty otherwise, so a reply
// holds it out of line (ReplyMetadata::tracking) and an ordinary reply stays
// cheap to move and destroy.
struct TrackingMetadata {
  // OR-Set writes: the dots they removed, per key (SREM and DEL: the
  // observed dots of what they removed; SADD: the element's dots the new one
  // supersedes). With `ReplyMetadata::dots`, a checker can follow every add
  // to its end. A command split across replicas (a multi-key DEL) joins
  // every part's. Non-empty whenever a write removed a dot, whatever the
  // configuration.
  std::vector<std::pair<std::string, Dot>> removed_dots;
  // With version tracking on (sessions or the causal level): for each key the
  // command named, the update dots the executing replica's state of the key
  // holds after the command. A session joins them into its token.
  KeyVersions versions;
  // With version tracking: the update dots this command created, per key it
  // changed (one each), so a checker can tell which write a read observed.
  KeyVersions updates;
  // At the causal level: for each key named, the causal past its state
  // depends on (KeyState::dependencies): a session joins it into its token,
  // so it never later observes a state of another key missing that past.
  KeyVersions dependencies;
  // Reads of multi-value registers (GET, MGET at the causal level): per key
  // read, the update dots of the siblings returned (a sibling's dot is the
  // update dot of the write that made it, see `updates`), so a checker can
  // tell which writes a read returned even when two wrote the same value.
  KeyVersions siblings;

  friend bool operator==(const TrackingMetadata&, const TrackingMetadata&) = default;
};

// What a checker needs to place the operation: all optional.
struct ReplyMetadata {
  // Replicas that applied the write (a local write: the executing replica; a
  // forwarded one: the replica it was forwarded to).
  std::vector<ReplicaId> written;
  // The replica that executed the command.
  ReplicaId executed_by = 0;
  // LWW writes (SET, MSET, HSET, HDEL, DEL of registers/maps): one timestamp
  // per key written, in key order of the command.
  std::vector<std::pair<std::string, LwwTimestamp>> timestamps;
  // OR-Set adds and counter updates: the dots they created, per key (an SADD:
  // one per distinct member, in the order members first appear).
  std::vector<std::pair<std::string, Dot>> dots;
  // Reads: for each key read, the LWW timestamp of the value returned (an
  // LWW register or map field), so a checker can order reads and writes.
  std::vector<std::pair<std::string, LwwTimestamp>> read_timestamps;
  // The executing replica's Lamport clock after the command.
  std::uint64_t lamport = 0;
  // Version and tombstone metadata: read `tracking->versions`, write
  // `tracking.mut().versions` (which allocates it). Write only what is
  // non-empty, so replies without any never allocate.
  OutOfLine<TrackingMetadata> tracking;

  friend bool operator==(const ReplyMetadata&, const ReplyMetadata&) = default;
};

struct Reply {
  ReplyStatus status = ReplyStatus::ok;
  std::string error;  // human-readable, for non-ok statuses
  ReplyValue value;
  ReplyMetadata metadata;

  friend bool operator==(const Reply&, const Reply&) = default;
  void encode_body(Encoder& encoder) const;
  static Reply decode_body(Decoder& decoder);
  // The same into `reply`, which must be a default Reply: for a decoder that
  // holds the reply in a message, so the reply is not moved there.
  static void decode_body(Decoder& decoder, Reply& reply);

  static Reply failure(ReplyStatus status, std::string error);
};

}  // namespace crdtsim::core
