#include "harness/checkers/linearizability_search.h"

#include <algorithm>
#include <cassert>
#include <limits>
#include <map>
#include <span>
#include <tuple>
#include <utility>

namespace crdtsim::harness::linearizability {

namespace {

// A step (one ok operation and the indeterminate ones assumed just before
// it) with more alternatives than this makes the key unknown rather than
// slow: it only happens with many indeterminate adds of distinct deltas.
constexpr std::size_t kRunsPerStepMax = 4096;
constexpr std::size_t kChildrenPerFrameMax = 65536;
constexpr std::size_t kPathTailMax = 6;
constexpr std::uint64_t kTimeInfinity = std::numeric_limits<std::uint64_t>::max();

// An operation in the search's terms. Registers: values are interned ids (nil
// is 0). Counters: values and deltas are the integers themselves.
struct SearchOp {
  const LinOp* source = nullptr;
  LinFunction f = LinFunction::read;
  std::int64_t a = 0;     // read: value seen; write: value; cas: expected; add: delta
  std::int64_t b = 0;     // cas: the value it sets
  bool matchable = true;  // false: a counter read of a value that is not an integer
  std::uint64_t invoke = 0;
  std::uint64_t complete = kTimeInfinity;
};

// Indeterminate operations with the same effect. Once invoked they are
// interchangeable, so the search always assumes the earliest invoked first
// and only counts how many of a class it has assumed.
struct OpClass {
  LinFunction f = LinFunction::write;
  std::int64_t a = 0;
  std::int64_t b = 0;
  std::vector<std::uint32_t> members;  // indices into the indeterminate ops, by invoke
};

struct RunItem {
  std::uint32_t op_class = 0;
  std::uint32_t count = 0;
};

struct Child {
  std::uint32_t det = 0;  // the ok operation linearized
  std::uint32_t run_begin = 0;
  std::uint32_t run_size = 0;  // indeterminate classes assumed just before it
  std::int64_t state_after = 0;
};

// One node of the depth-first search: a linearized prefix.
struct Frame {
  std::vector<std::uint64_t> bits;      // ok ops, then indeterminate ops, linearized
  std::vector<std::uint32_t> consumed;  // per class: how many assumed
  std::int64_t state = 0;
  std::uint32_t placed = 0;                    // ok operations linearized
  std::uint32_t invoke_front = 0;              // first unplaced ok op in invoke order
  std::uint32_t complete_front = 0;            // first unplaced ok op in completion order
  std::uint64_t min_complete = kTimeInfinity;  // earliest completion among unplaced ok ops
  std::vector<Child> children;
  std::vector<RunItem> run_items;
  std::size_t next = 0;
};

bool test_bit(const std::vector<std::uint64_t>& bits, std::size_t index) {
  return ((bits[index / 64] >> (index % 64)) & 1U) != 0;
}

void set_bit(std::vector<std::uint64_t>& bits, std::size_t index) {
  bits[index / 64] |= std::uint64_t{1} << (index % 64);
}

std::int64_t saturating_add(std::int64_t left, std::int64_t right) {
  std::int64_t sum = 0;
  if (__builtin_add_overflow(left, right, &sum)) {
    return right > 0 ? std::numeric_limits<std::int64_t>::max()
                     : std::numeric_limits<std::int64_t>::min();
  }
  return sum;
}

std::int64_t saturating_multiply(std::int64_t value, std::uint32_t count) {
  std::int64_t product = 0;
  if (__builtin_mul_overflow(value, static_cast<std::int64_t>(count), &product)) {
    return value > 0 ? std::numeric_limits<std::int64_t>::max()
                     : std::numeric_limits<std::int64_t>::min();
  }
  return product;
}

// The visited (linearized set, state) pairs: open addressing over a flat
// arena, so a state costs its bitset and no allocation of its own.
class StateSet {
 public:
  explicit StateSet(std::size_t words) : words_(words), slots_(1024, 0) {}

  // Inserts the pair; false if it was already there.
  bool insert(const std::vector<std::uint64_t>& bits, std::int64_t state) {
    assert(bits.size() == words_);
    if ((count_ + 1) * 2 > slots_.size()) {
      grow();
    }
    const std::uint64_t hash = hash_of(bits.data(), state);
    std::size_t slot = hash & (slots_.size() - 1);
    while (slots_[slot] != 0) {
      if (equals(slots_[slot] - 1, bits, state)) {
        return false;
      }
      slot = (slot + 1) & (slots_.size() - 1);
    }
    const std::size_t stride = words_ + 1;
    entries_.insert(entries_.end(), bits.begin(), bits.end());
    entries_.push_back(static_cast<std::uint64_t>(state));
    slots_[slot] = static_cast<std::uint32_t>(entries_.size() / stride);
    ++count_;
    return true;
  }

 private:
  std::uint64_t hash_of(const std::uint64_t* words, std::int64_t state) const {
    std::uint64_t hash = static_cast<std::uint64_t>(state) * 0x9E3779B97F4A7C15ULL;
    for (std::size_t i = 0; i < words_; ++i) {
      hash ^= words[i] + 0x632BE59BD9B4E019ULL + (hash << 6) + (hash >> 2);
      hash *= 0xBF58476D1CE4E5B9ULL;
      hash ^= hash >> 31;
    }
    return hash ^ (hash >> 29);
  }

  bool equals(std::size_t entry, const std::vector<std::uint64_t>& bits, std::int64_t state) const {
    const std::uint64_t* stored = entries_.data() + entry * (words_ + 1);
    return stored[words_] == static_cast<std::uint64_t>(state) &&
           std::equal(bits.begin(), bits.end(), stored);
  }

  void grow() {
    std::vector<std::uint32_t> slots(slots_.size() * 2, 0);
    const std::size_t stride = words_ + 1;
    for (std::size_t entry = 0; entry < count_; ++entry) {
      const std::uint64_t* stored = entries_.data() + entry * stride;
      std::size_t slot =
          hash_of(stored, static_cast<std::int64_t>(stored[words_])) & (slots.size() - 1);
      while (slots[slot] != 0) {
        slot = (slot + 1) & (slots.size() - 1);
      }
      slots[slot] = static_cast<std::uint32_t>(entry + 1);
    }
    slots_ = std::move(slots);
  }

  std::size_t words_;
  std::vector<std::uint64_t> entries_;  // (words_ + 1) per entry: bits, state
  std::vector<std::uint32_t> slots_;    // entry index + 1; 0 = empty
  std::size_t count_ = 0;
};

class Search {
 public:
  Search(const std::vector<const LinOp*>& operations, LinModel model, std::uint64_t max_states);
  KeyResult run();

 private:
  // Preparation.
  std::int64_t intern(const LinValue& value);
  SearchOp to_search_op(const LinOp& op);
  void build_classes();

  // The search.
  void make_child(const Frame& parent, const Child& child, Frame& next) const;
  void prepare(Frame& frame) const;
  void expand(Frame& frame);
  std::uint32_t free_of(const Frame& frame, std::uint32_t op_class) const;
  void emit(Frame& frame, std::uint32_t det, std::span<const RunItem> run, std::int64_t after);
  bool charge();

  // Register steps.
  void expand_register(Frame& frame, std::uint32_t det);
  void cas_chains(Frame& frame, std::uint32_t det, std::int64_t from, std::int64_t need,
                  std::int64_t after, std::vector<RunItem>& path, std::vector<std::int64_t>& seen);
  // Counter steps.
  void expand_counter(Frame& frame, std::uint32_t det);
  void add_sums(Frame& frame, std::uint32_t det, std::int64_t target, std::int64_t after,
                const std::vector<RunItem>& prefix);

  // Quick refutations before the search (sound: each names an operation that
  // no linearization can place, whatever the others do).
  bool refute_register(KeyResult& result) const;
  bool refute_counter(KeyResult& result) const;

  // Evidence.
  void record_deepest(std::size_t depth);
  void describe_dead_end(KeyResult& result) const;
  std::string state_text(std::int64_t state) const;
  std::string value_text(std::int64_t value) const;

  LinModel model_;
  std::uint64_t max_states_;
  std::uint64_t states_ = 0;
  bool exhausted_ = false;
  bool runs_overflow_ = false;

  std::vector<SearchOp> det_;                   // ok operations, by invoke time
  std::vector<std::uint32_t> det_by_complete_;  // indices into det_, by completion
  std::vector<SearchOp> indet_;                 // indeterminate ones, by invoke time
  std::vector<OpClass> classes_;
  std::vector<std::uint32_t> write_classes_;  // by class id
  std::vector<std::uint32_t> add_classes_;    // by class id (counters)
  std::map<std::int64_t, std::uint32_t> write_class_by_value_;
  std::map<std::int64_t, std::vector<std::uint32_t>> cas_classes_by_from_;
  std::map<LinValue, std::int64_t> value_ids_;  // registers
  std::vector<LinValue> values_;                // registers: id -> value

  std::vector<Frame> frames_;
  // The deepest prefix found (the first to reach that depth).
  std::size_t best_placed_ = 0;
  std::vector<std::uint64_t> best_bits_;
  std::int64_t best_state_ = 0;
  std::uint32_t best_complete_front_ = 0;
  std::uint64_t best_min_complete_ = 0;
  std::vector<PathStep> best_path_;
};

Search::Search(const std::vector<const LinOp*>& operations, LinModel model,
               std::uint64_t max_states)
    : model_(model), max_states_(max_states) {
  values_.push_back(LinValue::nil());
  value_ids_.emplace(LinValue::nil(), 0);
  for (const LinOp* op : operations) {
    assert(op->outcome != OpOutcome::fail);
    if (op->outcome == OpOutcome::ok) {
      det_.push_back(to_search_op(*op));
    } else if (op->f != LinFunction::read) {
      indet_.push_back(to_search_op(*op));
    }
  }
  const auto by_invoke = [](const SearchOp& left, const SearchOp& right) {
    return left.invoke < right.invoke;
  };
  std::stable_sort(det_.begin(), det_.end(), by_invoke);
  std::stable_sort(indet_.begin(), indet_.end(), by_invoke);
  for (std::uint32_t i = 0; i < det_.size(); ++i) {
    det_by_complete_.push_back(i);
  }
  std::stable_sort(det_by_complete_.begin(), det_by_complete_.end(),
                   [this](std::uint32_t left, std::uint32_t right) {
                     return det_[left].complete < det_[right].complete;
                   });
  build_classes();
}

std::int64_t Search::intern(const LinValue& value) {
  const auto [it, inserted] = value_ids_.emplace(value, static_cast<std::int64_t>(values_.size()));
  if (inserted) {
    values_.push_back(value);
  }
  return it->second;
}

SearchOp Search::to_search_op(const LinOp& op) {
  SearchOp result;
  result.source = &op;
  result.f = op.f;
  result.invoke = op.invoke_time;
  if (op.outcome == OpOutcome::ok) {
    assert(op.complete_time.has_value());
    result.complete = *op.complete_time;
  }
  if (model_ == LinModel::cas_register) {
    result.a = intern(op.value);
    result.b = op.f == LinFunction::cas ? intern(op.value_new) : 0;
  } else {
    result.matchable = op.value.kind == LinValue::Kind::integer;
    assert(result.matchable || op.f == LinFunction::read);
    result.a = op.value.integer;
  }
  return result;
}

void Search::build_classes() {
  std::map<std::tuple<LinFunction, std::int64_t, std::int64_t>, std::uint32_t> class_ids;
  for (std::uint32_t i = 0; i < indet_.size(); ++i) {
    const SearchOp& op = indet_[i];
    const auto [it, inserted] = class_ids.emplace(std::make_tuple(op.f, op.a, op.b),
                                                  static_cast<std::uint32_t>(classes_.size()));
    if (inserted) {
      classes_.push_back(OpClass{op.f, op.a, op.b, {}});
    }
    classes_[it->second].members.push_back(i);
  }
  for (std::uint32_t c = 0; c < classes_.size(); ++c) {
    const OpClass& op_class = classes_[c];
    if (op_class.f == LinFunction::write) {
      write_classes_.push_back(c);
      write_class_by_value_.emplace(op_class.a, c);
    } else if (op_class.f == LinFunction::cas) {
      cas_classes_by_from_[op_class.a].push_back(c);
    } else if (op_class.f == LinFunction::add && op_class.a != 0) {
      add_classes_.push_back(c);
    }
  }
}

KeyResult Search::run() {
  KeyResult result;
  result.determinate = det_.size();
  result.indeterminate = indet_.size();
  const std::size_t words = (det_.size() + indet_.size() + 63) / 64;
  StateSet visited(words);
  frames_.resize(det_.size() + 1);
  Frame& root = frames_[0];
  root.bits.assign(words, 0);
  root.consumed.assign(classes_.size(), 0);
  prepare(root);
  if (det_.empty()) {
    result.validity = Validity::valid;
    return result;
  }
  const bool refuted =
      model_ == LinModel::cas_register ? refute_register(result) : refute_counter(result);
  if (refuted) {
    result.validity = Validity::invalid;
    return result;
  }
  expand(root);
  record_deepest(0);
  std::size_t depth = 0;
  while (!exhausted_) {
    Frame& parent = frames_[depth];
    if (parent.next == parent.children.size()) {
      if (depth == 0) {
        break;
      }
      --depth;
      continue;
    }
    Frame& next = frames_[depth + 1];
    make_child(parent, parent.children[parent.next++], next);
    if (!visited.insert(next.bits, next.state) || !charge()) {
      continue;
    }
    ++depth;
    if (next.placed == det_.size()) {
      result.validity = Validity::valid;
      result.states = states_;
      return result;
    }
    prepare(next);
    expand(next);
    if (next.placed > best_placed_) {
      record_deepest(depth);
    }
  }
  result.validity = exhausted_ ? Validity::unknown : Validity::invalid;
  result.runs_overflow = runs_overflow_;
  result.states = states_;
  describe_dead_end(result);
  return result;
}

bool Search::charge() {
  ++states_;
  if (states_ > max_states_) {
    exhausted_ = true;
  }
  return !exhausted_;
}

void Search::make_child(const Frame& parent, const Child& child, Frame& next) const {
  next.bits = parent.bits;
  next.consumed = parent.consumed;
  set_bit(next.bits, child.det);
  for (std::uint32_t i = 0; i < child.run_size; ++i) {
    const RunItem& item = parent.run_items[child.run_begin + i];
    const OpClass& op_class = classes_[item.op_class];
    for (std::uint32_t k = 0; k < item.count; ++k) {
      const std::uint32_t member = op_class.members[next.consumed[item.op_class] + k];
      set_bit(next.bits, det_.size() + member);
    }
    next.consumed[item.op_class] += item.count;
  }
  next.state = child.state_after;
  next.placed = parent.placed + 1;
  next.invoke_front = parent.invoke_front;
  next.complete_front = parent.complete_front;
  next.children.clear();
  next.run_items.clear();
  next.next = 0;
}

void Search::prepare(Frame& frame) const {
  const std::size_t count = det_.size();
  while (frame.complete_front < count &&
         test_bit(frame.bits, det_by_complete_[frame.complete_front])) {
    ++frame.complete_front;
  }
  while (frame.invoke_front < count && test_bit(frame.bits, frame.invoke_front)) {
    ++frame.invoke_front;
  }
  frame.min_complete = frame.complete_front < count
                           ? det_[det_by_complete_[frame.complete_front]].complete
                           : kTimeInfinity;
}

// The ok operations that may go next are the unplaced ones invoked no later
// than the earliest completion among the unplaced ones (real-time order).
void Search::expand(Frame& frame) {
  for (std::uint32_t i = frame.invoke_front;
       i < det_.size() && det_[i].invoke <= frame.min_complete && !exhausted_; ++i) {
    if (test_bit(frame.bits, i)) {
      continue;
    }
    if (model_ == LinModel::cas_register) {
      expand_register(frame, i);
    } else {
      expand_counter(frame, i);
    }
  }
}

// Indeterminate operations of a class that may be assumed now: invoked no
// later than the earliest pending completion, and not assumed yet.
std::uint32_t Search::free_of(const Frame& frame, std::uint32_t op_class) const {
  const std::vector<std::uint32_t>& members = classes_[op_class].members;
  const auto available = std::partition_point(
      members.begin(), members.end(),
      [&](std::uint32_t member) { return indet_[member].invoke <= frame.min_complete; });
  const auto count = static_cast<std::uint32_t>(available - members.begin());
  assert(count >= frame.consumed[op_class]);  // min_complete only grows along a path
  return count > frame.consumed[op_class] ? count - frame.consumed[op_class] : 0;
}

void Search::emit(Frame& frame, std::uint32_t det, std::span<const RunItem> run,
                  std::int64_t after) {
  if (frame.children.size() >= kChildrenPerFrameMax) {
    runs_overflow_ = true;
    exhausted_ = true;
    return;
  }
  frame.children.push_back(Child{det, static_cast<std::uint32_t>(frame.run_items.size()),
                                 static_cast<std::uint32_t>(run.size()), after});
  frame.run_items.insert(frame.run_items.end(), run.begin(), run.end());
}

void Search::expand_register(Frame& frame, std::uint32_t det) {
  const SearchOp& op = det_[det];
  if (op.f == LinFunction::write) {
    emit(frame, det, {}, op.a);  // assuming anything before a write is useless
    return;
  }
  const std::int64_t need = op.a;
  const std::int64_t after = op.f == LinFunction::cas ? op.b : need;
  if (frame.state == need) {
    emit(frame, det, {}, after);
    return;
  }
  // Runs that end in `need`, up to dominance: an optional indeterminate write
  // first (anything before the last write is useless), then a simple chain of
  // indeterminate CASes.
  std::vector<RunItem> path;
  std::vector<std::int64_t> seen{frame.state};
  const auto write_need = write_class_by_value_.find(need);
  if (write_need != write_class_by_value_.end() && free_of(frame, write_need->second) > 0) {
    const RunItem item{write_need->second, 1};
    emit(frame, det, std::span<const RunItem>(&item, 1), after);
  }
  if (cas_classes_by_from_.empty()) {
    return;
  }
  cas_chains(frame, det, frame.state, need, after, path, seen);
  for (std::uint32_t write_class : write_classes_) {
    const std::int64_t value = classes_[write_class].a;
    if (value == frame.state || value == need || !charge() || free_of(frame, write_class) == 0) {
      continue;
    }
    path.assign(1, RunItem{write_class, 1});
    seen.assign({frame.state, value});
    cas_chains(frame, det, value, need, after, path, seen);
  }
}

void Search::cas_chains(Frame& frame, std::uint32_t det, std::int64_t from, std::int64_t need,
                        std::int64_t after, std::vector<RunItem>& path,
                        std::vector<std::int64_t>& seen) {
  const auto found = cas_classes_by_from_.find(from);
  if (found == cas_classes_by_from_.end()) {
    return;
  }
  for (std::uint32_t cas_class : found->second) {
    const std::int64_t to = classes_[cas_class].b;
    if (!charge() || std::find(seen.begin(), seen.end(), to) != seen.end() ||
        free_of(frame, cas_class) == 0) {
      continue;
    }
    path.push_back(RunItem{cas_class, 1});
    if (to == need) {
      emit(frame, det, path, after);
    } else {
      seen.push_back(to);
      cas_chains(frame, det, to, need, after, path, seen);
      seen.pop_back();
    }
    path.pop_back();
  }
}

void Search::expand_counter(Frame& frame, std::uint32_t det) {
  const SearchOp& op = det_[det];
  std::int64_t sum = 0;
  switch (op.f) {
    case LinFunction::add:
      // Indeterminate adds commute with it: they wait for the next read. An
      // indeterminate write (reset) cannot wait.
      if (!__builtin_add_overflow(frame.state, op.a, &sum)) {
        emit(frame, det, {}, sum);
      }
      for (std::uint32_t write_class : write_classes_) {
        if (free_of(frame, write_class) > 0 &&
            !__builtin_add_overflow(classes_[write_class].a, op.a, &sum)) {
          const RunItem item{write_class, 1};
          emit(frame, det, std::span<const RunItem>(&item, 1), sum);
        }
      }
      return;
    case LinFunction::write:
      emit(frame, det, {}, op.a);
      return;
    case LinFunction::read:
      break;
    case LinFunction::cas:
      assert(false && "validated: counters have no cas");
      return;
  }
  if (!op.matchable) {
    return;
  }
  if (frame.state == op.a) {
    emit(frame, det, {}, op.a);
    return;
  }
  std::int64_t target = 0;
  if (!__builtin_sub_overflow(op.a, frame.state, &target)) {
    add_sums(frame, det, target, op.a, {});
  }
  for (std::uint32_t write_class : write_classes_) {
    if (free_of(frame, write_class) == 0 ||
        __builtin_sub_overflow(op.a, classes_[write_class].a, &target)) {
      continue;
    }
    add_sums(frame, det, target, op.a, {RunItem{write_class, 1}});
  }
}

// Indeterminate adds (counts per class) that sum to `target`, keeping only
// the minimal solutions (a solution using a superset of another's adds is
// never needed: the unused adds can still take effect later, or never).
void Search::add_sums(Frame& frame, std::uint32_t det, std::int64_t target, std::int64_t after,
                      const std::vector<RunItem>& prefix) {
  struct Option {
    std::uint32_t op_class;
    std::int64_t delta;
    std::uint32_t free;
  };
  std::vector<Option> options;
  for (std::uint32_t add_class : add_classes_) {
    const std::uint32_t free = free_of(frame, add_class);
    if (free > 0) {
      options.push_back(Option{add_class, classes_[add_class].a, free});
    }
  }
  // Reachable range of the options from index i on: prunes the enumeration.
  std::vector<std::int64_t> high(options.size() + 1, 0);
  std::vector<std::int64_t> low(options.size() + 1, 0);
  for (std::size_t i = options.size(); i-- > 0;) {
    const std::int64_t extreme = saturating_multiply(options[i].delta, options[i].free);
    high[i] = saturating_add(high[i + 1], std::max<std::int64_t>(extreme, 0));
    low[i] = saturating_add(low[i + 1], std::min<std::int64_t>(extreme, 0));
  }
  std::vector<std::vector<std::uint32_t>> solutions;
  std::vector<std::uint32_t> counts(options.size(), 0);
  const auto enumerate = [&](const auto& self, std::size_t i, std::int64_t remaining) -> void {
    if (!charge()) {
      return;
    }
    if (remaining == 0) {  // any further add only makes a non-minimal solution
      if (solutions.size() == kRunsPerStepMax) {
        runs_overflow_ = true;
        exhausted_ = true;
        return;
      }
      solutions.push_back(counts);
      return;
    }
    if (i == options.size() || remaining > high[i] || remaining < low[i]) {
      return;
    }
    std::int64_t rest = remaining;
    for (std::uint32_t count = 0; count <= options[i].free && !exhausted_; ++count) {
      counts[i] = count;
      self(self, i + 1, rest);
      if (__builtin_sub_overflow(rest, options[i].delta, &rest)) {
        break;
      }
    }
    counts[i] = 0;
  };
  enumerate(enumerate, 0, target);
  for (std::size_t s = 0; s < solutions.size() && !exhausted_; ++s) {
    const bool dominated = std::any_of(solutions.begin(), solutions.end(), [&](const auto& other) {
      return &other != &solutions[s] &&
             std::equal(other.begin(), other.end(), solutions[s].begin(),
                        [](std::uint32_t mine, std::uint32_t theirs) { return mine <= theirs; });
    });
    if (dominated) {
      continue;
    }
    std::vector<RunItem> run = prefix;
    for (std::size_t i = 0; i < options.size(); ++i) {
      if (solutions[s][i] > 0) {
        run.push_back(RunItem{options[i].op_class, solutions[s][i]});
      }
    }
    emit(frame, det, run, after);
  }
}

// A read of v (or a CAS expecting v), v not nil, needs an operation setting v
// invoked no later than the read completed.
bool Search::refute_register(KeyResult& result) const {
  std::map<std::int64_t, std::uint64_t> first_set;  // value -> earliest invoke setting it
  const auto note = [&](const SearchOp& op) {
    if (op.f == LinFunction::write || op.f == LinFunction::cas) {
      const std::int64_t value = op.f == LinFunction::write ? op.a : op.b;
      const auto [it, inserted] = first_set.emplace(value, op.invoke);
      it->second = inserted ? op.invoke : std::min(it->second, op.invoke);
    }
  };
  std::for_each(det_.begin(), det_.end(), note);
  std::for_each(indet_.begin(), indet_.end(), note);
  for (const SearchOp& op : det_) {
    if ((op.f != LinFunction::read && op.f != LinFunction::cas) || op.a == 0) {
      continue;
    }
    const auto found = first_set.find(op.a);
    if (found == first_set.end() || found->second > op.complete) {
      result.refutation = std::string(op.f == LinFunction::read ? "read " : "expects ") +
                          value_text(op.a) +
                          ", which no operation invoked before it completed writes";
      result.deadline = op.source;
      return true;
    }
  }
  return false;
}

// Without writes, a counter read sees the ok adds that completed before it
// was invoked, plus some of the other adds invoked before it completed: its
// value lies in a range (Maelstrom's pn-counter check, per read).
bool Search::refute_counter(KeyResult& result) const {
  if (!write_classes_.empty() || std::any_of(det_.begin(), det_.end(), [](const SearchOp& op) {
        return op.f == LinFunction::write;
      })) {
    return false;
  }
  struct Add {
    std::uint64_t time;
    std::int64_t delta;
  };
  std::vector<Add> by_complete;  // ok adds
  std::vector<Add> by_invoke;    // all adds
  for (const SearchOp& op : det_) {
    if (op.f == LinFunction::add) {
      by_complete.push_back(Add{op.complete, op.a});
      by_invoke.push_back(Add{op.invoke, op.a});
    }
  }
  for (const SearchOp& op : indet_) {
    by_invoke.push_back(Add{op.invoke, op.a});
  }
  const auto by_time = [](const Add& left, const Add& right) { return left.time < right.time; };
  std::stable_sort(by_complete.begin(), by_complete.end(), by_time);
  std::stable_sort(by_invoke.begin(), by_invoke.end(), by_time);
  // Prefix sums of the positive and negative parts; a sum that leaves int64
  // turns the check off (it would no longer be exact).
  const auto prefix = [](const std::vector<Add>& adds, std::vector<std::int64_t>& positive,
                         std::vector<std::int64_t>& negative) {
    positive.assign(1, 0);
    negative.assign(1, 0);
    for (const Add& add : adds) {
      std::int64_t next_positive = 0;
      std::int64_t next_negative = 0;
      if (__builtin_add_overflow(positive.back(), std::max<std::int64_t>(add.delta, 0),
                                 &next_positive) ||
          __builtin_add_overflow(negative.back(), std::min<std::int64_t>(add.delta, 0),
                                 &next_negative)) {
        return false;
      }
      positive.push_back(next_positive);
      negative.push_back(next_negative);
    }
    return true;
  };
  std::vector<std::int64_t> done_positive, done_negative, any_positive, any_negative;
  if (!prefix(by_complete, done_positive, done_negative) ||
      !prefix(by_invoke, any_positive, any_negative)) {
    return false;
  }
  for (const SearchOp& op : det_) {
    if (op.f != LinFunction::read || !op.matchable) {
      continue;
    }
    // Done: completed before the read was invoked. Any: invoked before it completed.
    const auto done = static_cast<std::size_t>(
        std::partition_point(by_complete.begin(), by_complete.end(),
                             [&](const Add& add) { return add.time < op.invoke; }) -
        by_complete.begin());
    const auto any = static_cast<std::size_t>(
        std::partition_point(by_invoke.begin(), by_invoke.end(),
                             [&](const Add& add) { return add.time <= op.complete; }) -
        by_invoke.begin());
    std::int64_t low = 0;
    std::int64_t high = 0;
    if (__builtin_add_overflow(any_negative[any], done_positive[done], &low) ||
        __builtin_add_overflow(any_positive[any], done_negative[done], &high)) {
      continue;
    }
    if (op.a < low || op.a > high) {
      result.refutation = "read " + std::to_string(op.a) +
                          ", outside the range the counter can hold then: [" + std::to_string(low) +
                          ", " + std::to_string(high) + "]";
      result.deadline = op.source;
      return true;
    }
  }
  return false;
}

void Search::record_deepest(std::size_t depth) {
  const Frame& frame = frames_[depth];
  best_placed_ = frame.placed;
  best_bits_ = frame.bits;
  best_state_ = frame.state;
  best_complete_front_ = frame.complete_front;
  best_min_complete_ = frame.min_complete;
  best_path_.clear();
  // Walk back from the deepest frame: frame k + 1 came from frames_[k]'s last
  // child. Indeterminate ops assumed in a step come before its ok op.
  for (std::size_t k = depth; k-- > 0 && best_path_.size() < kPathTailMax;) {
    const Frame& parent = frames_[k];
    const Child& child = parent.children[parent.next - 1];
    best_path_.push_back(PathStep{det_[child.det].source, false});
    for (std::uint32_t i = child.run_size; i-- > 0;) {
      const RunItem& item = parent.run_items[child.run_begin + i];
      const OpClass& op_class = classes_[item.op_class];
      for (std::uint32_t n = item.count; n-- > 0;) {
        const std::uint32_t member = op_class.members[parent.consumed[item.op_class] + n];
        best_path_.push_back(PathStep{indet_[member].source, true});
      }
    }
  }
  std::reverse(best_path_.begin(), best_path_.end());
}

std::string Search::value_text(std::int64_t value) const {
  if (model_ == LinModel::cas_register) {
    assert(value >= 0 && static_cast<std::size_t>(value) < values_.size());
    return describe(values_[static_cast<std::size_t>(value)]);
  }
  return std::to_string(value);
}

std::string Search::state_text(std::int64_t state) const {
  return value_text(state);
}

// At the deepest prefix no ok operation that real time allows next can be
// linearized (otherwise a deeper prefix would exist): say why for each.
void Search::describe_dead_end(KeyResult& result) const {
  result.placed_max = best_placed_;
  result.path_tail = best_path_;
  result.state = state_text(best_state_);
  if (best_complete_front_ < det_.size()) {
    result.deadline = det_[det_by_complete_[best_complete_front_]].source;
  }
  const bool register_model = model_ == LinModel::cas_register;
  const std::string holds = register_model ? "the register holds " : "the counter is ";
  const std::string unless = indet_.empty() ? std::string()
                             : register_model
                                 ? ", and no indeterminate write or CAS that may still take "
                                   "effect leads there"
                                 : ", and no set of the indeterminate updates that may still "
                                   "take effect makes up the difference";
  for (std::uint32_t i = 0; i < det_.size() && det_[i].invoke <= best_min_complete_; ++i) {
    if (test_bit(best_bits_, i)) {
      continue;
    }
    const SearchOp& op = det_[i];
    std::string reason;
    switch (op.f) {
      case LinFunction::read:
        reason = "read " + describe(op.source->value) + ", but " + holds + result.state + unless;
        break;
      case LinFunction::cas:
        reason = "expects " + value_text(op.a) + ", but " + holds + result.state + unless;
        break;
      case LinFunction::add:
        reason = "would overflow the counter (" + result.state + ")";
        break;
      case LinFunction::write:
        reason = "cannot go next";
        break;
    }
    result.blocked.push_back(BlockedOp{op.source, std::move(reason)});
  }
}

}  // namespace

KeyResult search_key(const std::vector<const LinOp*>& operations, LinModel model,
                     std::uint64_t max_states) {
  Search search(operations, model, max_states);
  return search.run();
}

}  // namespace crdtsim::harness::linearizability
