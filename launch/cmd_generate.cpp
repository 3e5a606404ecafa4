// `seller generate --model DIR --input IN.jsonl --output OUT.jsonl [--max-new-tokens N]
//  [--greedy | --sample] [--config F] [--set k=v]`: writes one output line per input line
// {"id": ..., "prompt": ...}, adding "output" (the generated text without the prompt),
// "prompt_tokens" and "output_tokens" (EOS not counted).
// DIR is a Hugging Face model folder (config.json, safetensors weights, tokenizer files).
// `seller generate --run RUN_DIR --output P.jsonl [--refs R.jsonl] [--split test|valid]
//  [--history real|shuffled|none]` explains every pair of a split with a trained SELLER run
// instead (launch/generate_run.h).
// Input is validated completely before the model is loaded (file:line for a bad line), and the
// output is written under a temporary name and renamed at the end: no partial OUT.jsonl.
#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <iomanip>
#include <iostream>
#include <memory>

#include "launch/cli_config.h"
#include "launch/commands.h"
#include "launch/generate_run.h"
#include "trainer/core/error.h"
#include "trainer/generate/generator.h"
#include "trainer/io/atomic_file.h"
#include "trainer/io/line_reader.h"
#include "trainer/model/llm/hf_import.h"
#include "trainer/text/tokenizer.h"

namespace seller::launch {
namespace {

struct GenerateArgs {
  ConfigOptions config;
  std::string model, input, output;
  int64_t max_new_tokens = -1;
  bool greedy = false, sample = false;
  GenerateRunArgs run;
};

struct PromptLine {
  nlohmann::json object;
  std::string prompt;
};

std::vector<PromptLine> read_prompts(const std::string& path) {
  io::LineReader reader(path);
  std::vector<PromptLine> out;
  std::string_view line;
  while (reader.next(line)) {
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    const std::string where = path + ":" + std::to_string(reader.line_number());
    nlohmann::json obj = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    SELLER_THROW_IF_NOT(!obj.is_discarded() && obj.is_object(), DataError, where,
                        ": not a JSON object");
    SELLER_THROW_IF_NOT(obj.contains("id"), DataError, where, ": missing \"id\"");
    SELLER_THROW_IF_NOT(obj.contains("prompt") && obj["prompt"].is_string(), DataError, where,
                        ": \"prompt\" must be a string");
    for (const char* key : {"output", "prompt_tokens", "output_tokens"})
      SELLER_THROW_IF_NOT(!obj.contains(key), DataError, where, ": already has a \"", key,
                          "\" field (it would be overwritten)");
    out.push_back({obj, obj["prompt"].get<std::string>()});
  }
  SELLER_THROW_IF_NOT(!out.empty(), DataError, path, ": no prompts");
  return out;
}

torch::Device pick_device(const std::string& name) {
  if (name == "auto") return torch::cuda::is_available() ? torch::Device("cuda:0") : torch::kCPU;
  torch::Device d(name);
  SELLER_THROW_IF_NOT(!d.is_cuda() || torch::cuda::is_available(), ConfigError,
                      "generate.device = '", name, "' but no CUDA device is available");
  return d;
}

int run_generate(const GenerateArgs& a) {
  // The shortcut flags are --set overrides applied after the user's own.
  ConfigOptions options = a.config;
  if (a.max_new_tokens >= 0)
    options.overrides.push_back("generate.max_new_tokens=" + std::to_string(a.max_new_tokens));
  if (a.greedy) options.overrides.push_back("generate.greedy=true");
  if (a.sample) options.overrides.push_back("generate.greedy=false");
  core::Config cfg;
  if (resolve_config(options, cfg)) return kExitOk;
  if (!a.run.run_dir.empty()) {
    SELLER_THROW_IF_NOT(
        a.model.empty() && a.input.empty(), ConfigError,
        "--run explains a trained SELLER run's pairs; it takes no --model or --input");
    GenerateRunArgs r = a.run;
    r.output = a.output;
    return run_generate_for_run(r, cfg, !options.files.empty() || !options.overrides.empty());
  }
  SELLER_THROW_IF_NOT(!a.model.empty() && !a.input.empty(), ConfigError,
                      "seller generate needs --model DIR and --input IN.jsonl (or --run RUN_DIR)");
  const auto& g = cfg.generate;
  auto prompts = read_prompts(a.input);
  auto tokenizer = text::Tokenizer::load(a.model);
  const torch::Device device = pick_device(g.device);
  const auto dtype = g.dtype == "float32"    ? torch::kFloat32
                     : g.dtype == "bfloat16" ? torch::kBFloat16
                     : device.is_cuda()      ? torch::kBFloat16
                                             : torch::kFloat32;
  auto decoder = model::load_hf_decoder(a.model, device, dtype);
  decoder->eval();

  generate::SamplingOptions opt;
  opt.max_new_tokens = g.max_new_tokens;
  opt.min_new_tokens = g.min_new_tokens;
  opt.greedy = g.greedy;
  opt.temperature = g.temperature;
  opt.top_k = g.top_k;
  opt.top_p = g.top_p;
  opt.repetition_penalty = g.repetition_penalty;
  opt.seed = static_cast<uint64_t>(g.seed);
  for (int64_t id : io::load_hf_config(a.model).eos_token_ids) opt.eos_ids.push_back(id);
  if (tokenizer->eos_id()) opt.eos_ids.push_back(*tokenizer->eos_id());

  io::AtomicFile out(a.output);
  auto t0 = std::chrono::steady_clock::now();
  uint64_t new_tokens = 0;
  for (size_t start = 0; start < prompts.size(); start += static_cast<size_t>(g.batch_size)) {
    const size_t end = std::min(prompts.size(), start + static_cast<size_t>(g.batch_size));
    std::vector<generate::GenerationRequest> batch;
    for (size_t i = start; i < end; ++i) {
      auto ids = tokenizer->encode(prompts[i].prompt, g.add_special_tokens);
      // The prompt's index in the file picks its sampling stream: outputs do not depend on
      // generate.batch_size.
      batch.push_back({std::vector<int64_t>(ids.begin(), ids.end()), {}, static_cast<int64_t>(i)});
      prompts[i].object["prompt_tokens"] = ids.size();
    }
    auto results = generate::generate(decoder, batch, opt);
    for (size_t i = start; i < end; ++i) {
      auto tokens = results[i - start].tokens;
      if (results[i - start].stopped_by_eos && !tokens.empty()) tokens.pop_back();
      new_tokens += tokens.size();
      std::vector<int32_t> ids(tokens.begin(), tokens.end());
      nlohmann::json obj = prompts[i].object;
      obj["output"] = tokenizer->decode(ids, /*skip_special_tokens=*/true);
      obj["output_tokens"] = ids.size();
      out.write(obj.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
    }
  }
  out.commit();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << "generated " << prompts.size() << " outputs (" << new_tokens << " new tokens) on "
            << device.str() << " in " << std::fixed << std::setprecision(2) << secs << " s ("
            << std::setprecision(1) << (secs > 0 ? static_cast<double>(new_tokens) / secs : 0.0)
            << " tokens/s) -> " << a.output << "\n";
  return kExitOk;
}

}  // namespace

void register_generate_command(CLI::App& app, Runner& run) {
  auto args = std::make_shared<GenerateArgs>();
  CLI::App* cmd = app.add_subcommand(
      "generate",
      "write explanations: of a trained SELLER run's pairs (--run) or with a Hugging Face LLM "
      "folder from prompts in JSONL (--model, --input)");
  cmd->add_option("--model", args->model, "Hugging Face model folder");
  cmd->add_option("--input", args->input, "JSONL of {\"id\": ..., \"prompt\": ...}");
  cmd->add_option("--output", args->output,
                  "JSONL with \"output\" added (--run: predictions {\"id\", \"text\", ...})")
      ->required();
  cmd->add_option("--run", args->run.run_dir, "a SELLER run folder written by seller train");
  cmd->add_option("--refs", args->run.refs, "--run: also write the references (real reviews)");
  cmd->add_option("--split", args->run.split, "--run: test | valid (default test)");
  cmd->add_option("--history", args->run.history,
                  "--run: real | shuffled | none (the history controls; default real)");
  cmd->add_option("--limit", args->run.limit, "--run: only the first N pairs");
  cmd->add_option("--samples", args->run.samples, "--run: explanations printed (default 3)");
  cmd->add_option("--max-new-tokens", args->max_new_tokens, "= --set generate.max_new_tokens=N");
  auto* greedy = cmd->add_flag("--greedy", args->greedy, "greedy decoding");
  cmd->add_flag("--sample", args->sample, "sampling (temperature, top-k, top-p)")->excludes(greedy);
  add_config_options(*cmd, args->config);
  cmd->callback([&run, args] { run = [args] { return run_generate(*args); }; });
}

}  // namespace seller::launch
