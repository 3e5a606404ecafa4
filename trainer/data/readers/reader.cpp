// Format names and the dispatcher over the per-format readers. See reader.h.
#include "trainer/data/readers/reader.h"

#include "trainer/core/error.h"
#include "trainer/data/readers/amazon2023_reader.h"
#include "trainer/data/readers/amazon_reader.h"
#include "trainer/data/readers/normalised_jsonl.h"
#include "trainer/data/readers/s3rec_reader.h"
#include "trainer/data/readers/xrec_reader.h"

namespace seller::data {
namespace {

constexpr InputFormat kFormats[] = {InputFormat::kAmazon, InputFormat::kAmazon2023,
                                    InputFormat::kXRec, InputFormat::kS3Rec,
                                    InputFormat::kSynthetic};

}  // namespace

std::string_view format_name(InputFormat f) {
  switch (f) {
    case InputFormat::kAmazon:
      return "amazon";
    case InputFormat::kAmazon2023:
      return "amazon2023";
    case InputFormat::kXRec:
      return "xrec";
    case InputFormat::kS3Rec:
      return "s3rec";
    case InputFormat::kSynthetic:
      return "synthetic";
  }
  SELLER_CHECK(false, "unknown InputFormat ", static_cast<int>(f));
  return {};
}

InputFormat parse_input_format(std::string_view name) {
  std::string valid;
  for (const InputFormat f : kFormats) {
    if (format_name(f) == name) return f;
    if (!valid.empty()) valid += ", ";
    valid += format_name(f);
  }
  throw DataError(detail::concat("unknown input format '", name, "' (valid: ", valid, ")"));
}

ReadStats read_records(InputFormat format, const std::filesystem::path& input,
                       const ReadOptions& options, const RecordSink& sink) {
  std::error_code ec;
  SELLER_THROW_IF_NOT(std::filesystem::exists(input, ec), DataError, input.string(),
                      ": no such file or folder");
  switch (format) {
    case InputFormat::kAmazon:
      return read_amazon(input, options, sink);
    case InputFormat::kAmazon2023:
      return read_amazon2023(input, options, sink);
    case InputFormat::kXRec:
      return read_xrec(input, options, sink);
    case InputFormat::kS3Rec:
      return read_s3rec(input, options, sink);
    case InputFormat::kSynthetic:
      return read_synthetic(input, options, sink);
  }
  SELLER_CHECK(false, "unknown InputFormat ", static_cast<int>(format));
  return {};
}

}  // namespace seller::data
