#pragma once
// Identifiers shared by every part of the store.

#include <cstdint>

namespace crdtsim::core {

// A replica's identity. Small integers assigned by the deployment (the
// simulator numbers replicas from 0). Part of every timestamp and dot, so it
// breaks ties between concurrent writes deterministically.
using ReplicaId = std::uint32_t;

}  // namespace crdtsim::core
