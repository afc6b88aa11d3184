// Properties of the linearizability checker: histories made by executing a
// sequential model at points inside random overlapping intervals are always
// linearizable; the same histories with one read changed to a value never
// written are never (so the checker can fail).
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "harness/checkers/linearizability.h"
#include "tests/harness/linearizability_generators.h"

namespace crdtsim::testing {
namespace {

using harness::LinFunction;
using harness::LinModel;
using harness::LinOp;
using harness::OpOutcome;
using harness::Validity;

GeneratorConfig gen_config(LinModel model) {
  GeneratorConfig config;
  config.model = model;
  config.operations = *rc::gen::inRange<std::uint32_t>(1, 120);
  config.keys = *rc::gen::inRange<std::uint32_t>(1, 4);
  config.processes = *rc::gen::inRange<std::uint32_t>(1, 8);
  config.read_ppm = *rc::gen::inRange<std::uint32_t>(100'000, 700'000);
  config.indeterminate_ppm = *rc::gen::inRange<std::uint32_t>(0, 300'000);
  config.span_max = *rc::gen::inRange<std::uint64_t>(1, 40);
  if (model == LinModel::cas_register) {
    config.cas_ppm = *rc::gen::inRange<std::uint32_t>(0, 500'000);
    config.values = *rc::gen::element<std::uint32_t>(0, 3, 6);
  }
  return config;
}

// Replaces the value of one ok read (picked by `choice`) with one that no
// operation writes; false if there is no ok read.
bool corrupt_one_read(std::vector<LinOp>& ops, std::size_t choice, LinModel model) {
  std::vector<std::size_t> reads;
  for (std::size_t i = 0; i < ops.size(); ++i) {
    if (ops[i].f == LinFunction::read && ops[i].outcome == OpOutcome::ok) {
      reads.push_back(i);
    }
  }
  if (reads.empty()) {
    return false;
  }
  LinOp& read = ops[reads[choice % reads.size()]];
  // Registers are written small integers; counters move by at most 5 per
  // operation, so neither reaches this.
  read.value = model == LinModel::cas_register ? harness::LinValue::of_text("never written")
                                               : harness::LinValue::of_integer(1'000'000'000);
  return true;
}

void check_model(LinModel model) {
  const GeneratorConfig config = gen_config(model);
  const auto seed = *rc::gen::arbitrary<std::uint64_t>();
  std::vector<LinOp> ops = generate_linearizable(config, seed);
  const harness::LinearizabilityResult valid = harness::check_lin_ops(ops, model);
  RC_ASSERT(valid.verdict.validity == Validity::valid);

  const auto choice = *rc::gen::arbitrary<std::size_t>();
  if (!corrupt_one_read(ops, choice, model)) {
    return;  // no ok read to corrupt
  }
  const harness::LinearizabilityResult invalid = harness::check_lin_ops(ops, model);
  RC_ASSERT(invalid.verdict.validity == Validity::invalid);
}

RC_GTEST_PROP(LinearizabilityProperty, RegisterHistoriesFromTheModelAreLinearizable, ()) {
  check_model(LinModel::cas_register);
}

RC_GTEST_PROP(LinearizabilityProperty, CounterHistoriesFromTheModelAreLinearizable, ()) {
  check_model(LinModel::counter);
}

}  // namespace
}  // namespace crdtsim::testing
