// Registration of the `seller` subcommands. Each register_* adds its subcommand(s) to the app and
// sets `run` to the function that executes the chosen one and returns the exit code.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

namespace seller::launch {

using Runner = std::function<int()>;

void register_data_commands(CLI::App& app, Runner& run);
// `seller generate` (needs LibTorch; built only when it is found).
void register_generate_command(CLI::App& app, Runner& run);
// `seller train` (needs LibTorch; built only when it is found).
void register_train_command(CLI::App& app, Runner& run);
// `seller eval`: text-quality metrics with bootstrap intervals and paired comparisons.
void register_eval_command(CLI::App& app, Runner& run);
// `seller ckpt inspect|verify|reshard|export` (export needs LibTorch).
void register_ckpt_command(CLI::App& app, Runner& run);
// `seller launch` (N local ranks) and the hidden `seller rendezvous-check` diagnostic.
void register_launch_commands(CLI::App& app, Runner& run);
// train/generate in builds without LibTorch: print "not implemented yet" and exit 2 (never a
// fake success).
void register_pending_commands(CLI::App& app, Runner& run);

}  // namespace seller::launch
