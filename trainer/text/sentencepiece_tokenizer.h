// SentencePiece models (*.model, e.g. llama2.c's tok512.model and Llama-2's tokenizer.model)
// through the SentencePiece library, which defines their behaviour (normalization rules, dummy
// prefix, byte fallback are all in the model file). Built only when CMake found the library
// (SELLER_HAVE_SENTENCEPIECE); otherwise load() throws a DataError that says so.
// add_special_tokens prepends BOS when the model has one, as Llama-2 does.
#pragma once

#include <filesystem>
#include <memory>

#include "trainer/text/tokenizer.h"

namespace seller::text {

std::unique_ptr<Tokenizer> load_sentencepiece(const std::filesystem::path& model_file);
bool have_sentencepiece();

}  // namespace seller::text
