#pragma once
// Everything in nn/: Module, layers, attention, Transformer layers, recurrent layers, losses,
// Sequential, init and the cs231n models.
#include "nn/attention.hpp"
#include "nn/containers.hpp"
#include "nn/cs231n_rnn.hpp"
#include "nn/embedding.hpp"
#include "nn/init.hpp"
#include "nn/layers.hpp"
#include "nn/layers1d.hpp"
#include "nn/loss.hpp"
#include "nn/models.hpp"
#include "nn/module.hpp"
#include "nn/norm.hpp"
#include "nn/rnn.hpp"
#include "nn/rnn_cell.hpp"
#include "nn/sequential.hpp"
#include "nn/transformer.hpp"
