// Entry point of the `seller` executable: parses the command line (CLI11), runs the chosen
// subcommand and turns errors into messages and exit codes (1 = error, 2 = not implemented).
#include <CLI/CLI.hpp>

#include <iostream>

#include "launch/cli_config.h"
#include "launch/commands.h"
#include "trainer/core/error.h"

int main(int argc, char** argv) {
  CLI::App app{"seller: sequence-aware LLM explainable recommendation (train, generate, eval)",
               "seller"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("seller ") + SELLER_VERSION +
                                        " (torch=" + (SELLER_HAVE_TORCH ? "on" : "off") +
                                        ", cuda=" + (SELLER_HAVE_CUDA ? "on" : "off") +
                                        ", nccl=" + (SELLER_HAVE_NCCL ? "on" : "off") +
                                        ", mpi=" + (SELLER_HAVE_MPI ? "on" : "off") + ")");
  seller::launch::Runner run;
  seller::launch::register_data_commands(app, run);
#if SELLER_HAVE_TORCH
  seller::launch::register_generate_command(app, run);
  seller::launch::register_train_command(app, run);
#endif
  seller::launch::register_eval_command(app, run);
  seller::launch::register_ckpt_command(app, run);
  seller::launch::register_launch_commands(app, run);
  seller::launch::register_pending_commands(app, run);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (!run) {
    std::cerr << app.help();
    return seller::launch::kExitError;
  }
  try {
    return run();
  } catch (const seller::Error& e) {
    std::cerr << "seller: error: " << e.what() << "\n";
    return seller::launch::kExitError;
  } catch (const std::exception& e) {
    std::cerr << "seller: unexpected error: " << e.what() << "\n";
    return seller::launch::kExitError;
  }
}
