// The safetensors API in one include: element types, the validating zero-copy reader, the
// sharded (index.json) reader and the writers. See each header for the checks and invariants,
// and docs/safetensors.md for the format rules, the alignment policy and the fuzz results.
//
// Building a LibTorch tensor from a view without a copy (for the model code):
//   if (view.aligned())
//     t = torch::from_blob(const_cast<void*>(view.ptr()), view.shape, options_for(view.dtype));
//   else  // copy into aligned storage first (or from_blob + clone on an owned buffer)
// The mapping is read-only (PROT_READ): clone() before any in-place update; .to(cuda) copies.
#pragma once

#include "trainer/io/safetensors_dtype.h"
#include "trainer/io/safetensors_reader.h"
#include "trainer/io/safetensors_sharded.h"
#include "trainer/io/safetensors_writer.h"
