// Subcommands whose issues have not landed yet. They parse like the real ones will (so scripts
// can be written against them) but print "not implemented yet" and exit with status 2.
#include <iostream>
#include <string>
#include <vector>

#include "launch/cli_config.h"
#include "launch/commands.h"

namespace seller::launch {
namespace {

struct Pending {
  const char* name;
  const char* description;
  const char* issue;
};

}  // namespace

#if !SELLER_HAVE_TORCH
constexpr Pending kGenerateWithoutTorch = {
    "generate", "write explanations (this build has no LibTorch: rebuild with it)",
    "LLM core (#3): rebuild with -DSELLER_WITH_TORCH=ON for the"};
constexpr Pending kTrainWithoutTorch = {
    "train", "train a model (this build has no LibTorch: rebuild with it)",
    "SELLER model (#4): rebuild with -DSELLER_WITH_TORCH=ON for the"};
#endif

void register_pending_commands(CLI::App& app, Runner& run) {
  std::vector<Pending> pending;  // only builds without LibTorch have pending subcommands now
#if !SELLER_HAVE_TORCH
  pending.push_back(kGenerateWithoutTorch);
  pending.push_back(kTrainWithoutTorch);
#endif
  for (const auto& p : pending) {
    CLI::App* cmd = app.add_subcommand(p.name, std::string(p.description) + " [not implemented yet]");
    cmd->allow_extras();  // accept the future flags so a script fails on status, not on parsing
    cmd->callback([&run, p] {
      run = [p] {
        std::cerr << "seller " << p.name << ": not implemented yet (tracked by the " << p.issue
                  << " issue)\n";
        return kExitNotImplemented;
      };
    });
  }
}

}  // namespace seller::launch
