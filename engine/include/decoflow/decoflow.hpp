// decoflow/decoflow.hpp: everything a C++ caller of the native engine needs.
#pragma once

#include "decoflow/byteswap.hpp"
#include "decoflow/codec.hpp"
#include "decoflow/decoder.hpp"
#include "decoflow/destination.hpp"
#include "decoflow/error.hpp"
#include "decoflow/executor.hpp"
#include "decoflow/graph.hpp"
#include "decoflow/graph_run.hpp"
#include "decoflow/input.hpp"
#include "decoflow/stage.hpp"
