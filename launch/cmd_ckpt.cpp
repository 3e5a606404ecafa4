// `seller ckpt inspect|verify|reshard|export`: tools for checkpoint folders (docs/checkpoints.md).
//   inspect DIR                    manifest summary; DIR may also be a run folder or its
//                                  checkpoints/ folder (lists every checkpoint and its state)
//   verify DIR                     every file and crc32; exit 1 naming each bad file
//   reshard DIR --to dp=..,tp=..,ep=.. --out DIR2   re-chunk for another layout (offline)
//   export DIR --out HF_DIR        the LLM as a Hugging Face folder + seller_adapter.safetensors
// inspect, verify and reshard are torch-free; export needs a LibTorch build.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>

#include "checkpoints/manifest.h"
#include "checkpoints/reshard.h"
#include "checkpoints/store.h"
#include "checkpoints/verify.h"
#include "launch/cli_config.h"
#include "launch/commands.h"
#include "trainer/core/error.h"
#if SELLER_HAVE_TORCH
#include "trainer/train/checkpoint_export.h"
#endif

namespace seller::launch {
namespace {
namespace fs = std::filesystem;

struct CkptArgs {
  std::string dir, out, to;
  bool json = false;
};

// Lists the checkpoints under a run folder or a checkpoints/ folder.
int list_checkpoints(const fs::path& dir) {
  const fs::path root = fs::exists(dir / "checkpoints") ? dir / "checkpoints" : dir;
  bool any = false;
  std::vector<fs::path> entries;
  for (const auto& e : fs::directory_iterator(root)) entries.push_back(e.path());
  std::sort(entries.begin(), entries.end());
  for (const auto& p : entries) {
    if (!ckpt::parse_step_name(p.filename().string()) &&
        p.filename().string().rfind("step-", 0) != 0)
      continue;
    any = true;
    const auto r = ckpt::verify_checkpoint(p, /*checksums=*/false);
    std::cout << p.filename().string() << "  " << (r.ok() ? "committed" : "NOT USABLE: ")
              << (r.ok() ? "" : ckpt::summarize(r)) << "\n";
  }
  std::error_code ec;
  if (fs::exists(root / "latest", ec)) {
    std::ifstream in(root / "latest");
    std::string latest;
    std::getline(in, latest);
    std::cout << "latest -> " << latest << "\n";
  }
  SELLER_THROW_IF_NOT(any, DataError, dir.string(), ": no checkpoint folders (step-*) found");
  return kExitOk;
}

int run_inspect(const CkptArgs& a) {
  const fs::path dir = a.dir;
  SELLER_THROW_IF_NOT(fs::is_directory(dir), DataError, dir.string(), ": not a folder");
  if (!fs::exists(dir / ckpt::kManifestName)) return list_checkpoints(dir);
  const auto m = ckpt::read_manifest(dir);
  if (a.json) {
    auto j = m.to_json();
    j.erase("tensors");
    std::cout << j.dump(1) << "\n";
    return kExitOk;
  }
  std::map<std::string, std::pair<int64_t, uint64_t>> groups;  // prefix -> (tensors, bytes)
  int64_t chunks = 0;
  for (const auto& t : m.tensors) {
    const auto prefix = t.name.substr(0, t.name.find('/'));
    groups[prefix].first += 1;
    groups[prefix].second += t.nbytes();
    chunks += static_cast<int64_t>(t.chunks.size());
  }
  std::cout << "checkpoint " << dir.string() << "\n"
            << "  step " << m.step << ", written " << m.created << ", format version " << m.version
            << (fs::exists(dir / ckpt::kCommittedName) ? ", committed" : ", NOT committed")
            << "\n  layout " << m.layout.describe() << " (world " << m.layout.world() << "), "
            << m.files.size() << " chunk files, " << std::fixed << std::setprecision(1)
            << static_cast<double>(m.total_bytes()) / 1e6 << " MB, " << m.tensors.size()
            << " tensors in " << chunks << " chunks\n  config " << m.config_hash << "\n";
  for (const auto& [g, v] : groups)
    std::cout << "  " << std::setw(8) << g << ": " << v.first << " tensors, "
              << static_cast<double>(v.second) / 1e6 << " MB\n";
  if (m.train_state.contains("loop")) {
    const auto& l = m.train_state["loop"];
    std::cout << "  loop: step " << l.value("step", 0) << "/" << l.value("total_steps", 0)
              << ", epoch " << l.value("epoch", 0) << " micro-batch " << l.value("next_micro", 0)
              << ", consumed samples " << l.value("consumed_samples", 0) << ", lr "
              << std::setprecision(3) << std::scientific << l.value("lr", 0.0) << std::defaultfloat
              << (l.value("done", false) ? ", finished" : "") << "\n";
    if (l.contains("moe_total") && !l["moe_total"]["tokens_per_expert"].empty())
      std::cout << "  expert tokens " << l["moe_total"]["tokens_per_expert"].dump() << "\n";
  }
  return kExitOk;
}

int run_verify(const CkptArgs& a) {
  const auto r = ckpt::verify_checkpoint(a.dir, /*checksums=*/true);
  if (r.ok()) {
    std::cout << "ok: " << a.dir << ": " << r.files << " files, " << r.chunks << " chunks, "
              << static_cast<double>(r.bytes) / 1e6 << " MB verified\n";
    return kExitOk;
  }
  for (const auto& p : r.problems) std::cerr << "bad: " << p << "\n";
  return kExitError;
}

int run_reshard(const CkptArgs& a) {
  const auto layout = ckpt::parse_layout(a.to);
  const auto r = ckpt::reshard(a.dir, layout, a.out);
  std::cout << "resharded " << a.dir << " (" << ckpt::read_manifest(a.dir).layout.describe()
            << ") -> " << a.out << " (" << layout.describe() << "): " << r.files << " chunk files, "
            << static_cast<double>(r.bytes) / 1e6 << " MB\n";
  return kExitOk;
}

int run_export(const CkptArgs& a) {
#if SELLER_HAVE_TORCH
  const auto r = train::export_checkpoint_hf(a.dir, a.out);
  std::cout << "exported " << a.dir << " -> " << a.out << ": LLM " << r.llm_tensors
            << " tensors (config.json, model.safetensors), adapter " << r.adapter_tensors
            << " tensors (seller_adapter.safetensors)";
  if (!r.copied.empty()) std::cout << ", tokenizer files copied: " << r.copied.size();
  std::cout << "\n";
  return kExitOk;
#else
  (void)a;
  std::cerr << "seller ckpt export: this build has no LibTorch: rebuild with it\n";
  return kExitNotImplemented;
#endif
}

}  // namespace

void register_ckpt_command(CLI::App& app, Runner& run) {
  auto args = std::make_shared<CkptArgs>();
  CLI::App* cmd = app.add_subcommand("ckpt", "inspect, verify, reshard and export checkpoints");
  cmd->require_subcommand(1);
  auto* inspect = cmd->add_subcommand("inspect",
                                      "print a checkpoint's manifest summary (or list "
                                      "the checkpoints of a run folder)");
  inspect->add_option("dir", args->dir, "checkpoint folder, run folder or checkpoints/ folder")
      ->required();
  inspect->add_flag("--json", args->json, "print the manifest as JSON (without the tensor table)");
  inspect->callback([&run, args] { run = [args] { return run_inspect(*args); }; });
  auto* verify = cmd->add_subcommand("verify",
                                     "check every chunk file and checksum (exit 1 "
                                     "naming each bad file)");
  verify->add_option("dir", args->dir, "checkpoint folder")->required();
  verify->callback([&run, args] { run = [args] { return run_verify(*args); }; });
  auto* reshard = cmd->add_subcommand("reshard", "re-chunk a checkpoint for another layout");
  reshard->add_option("dir", args->dir, "committed checkpoint folder")->required();
  reshard->add_option("--to", args->to, "new layout, e.g. dp=4,tp=1,ep=1")->required();
  reshard->add_option("--out", args->out, "new checkpoint folder (must not exist)")->required();
  reshard->callback([&run, args] { run = [args] { return run_reshard(*args); }; });
  auto* exp = cmd->add_subcommand("export",
                                  "write the LLM as a Hugging Face folder and the "
                                  "adapter weights beside it");
  exp->add_option("dir", args->dir, "committed checkpoint folder")->required();
  exp->add_option("--out", args->out, "output folder (must not exist)")->required();
  exp->callback([&run, args] { run = [args] { return run_export(*args); }; });
}

}  // namespace seller::launch
