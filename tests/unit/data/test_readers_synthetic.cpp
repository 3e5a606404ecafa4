// Tests of the normalised record JSONL (`synthetic` format): exact round trip of
// append_record_jsonl through the reader (unicode, escapes, control characters, optional
// fields, float ratings), invalid UTF-8 replacement, and malformed lines.
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/test_support.h"
#include "trainer/core/error.h"
#include "trainer/data/readers/normalised_jsonl.h"
#include "trainer/data/readers/reader.h"

namespace {

using seller::DataError;
using seller::data::InputFormat;
using seller::data::Record;
using seller::testing::TempDir;
using seller::testing::write_file;

bool same(const Record& a, const Record& b) {
  const bool rating_same = (std::isnan(a.rating) && std::isnan(b.rating)) ||
                           (std::memcmp(&a.rating, &b.rating, sizeof(float)) == 0);
  return a.user == b.user && a.item == b.item && rating_same && a.timestamp == b.timestamp &&
         a.review == b.review && a.summary == b.summary && a.title == b.title &&
         a.description == b.description && a.category == b.category && a.feature == b.feature;
}

std::vector<Record> sample_records() {
  std::vector<Record> records;
  Record r;
  r.user = "u1";
  r.item = "i1";
  records.push_back(r);  // only the required fields
  r.rating = 4.5f;
  r.timestamp = 1472688000000;
  r.review = "Quote \" backslash \\ slash / newline\n tab\t cr\r bell\x07 nul-free \x1f end";
  r.summary = "Ünïcödé — 日本語 — emoji 😀 — é";
  r.title = "Title with {braces} [brackets] : , \"";
  r.description = "desc";
  r.category = "Beauty";
  r.feature = "scent";
  records.push_back(r);
  Record odd;
  odd.user = "user with spaces";
  odd.item = "\xE2\x82\xAC";  // €
  odd.rating = 0.1f;          // not exact in binary: needs the shortest round-trip text
  odd.timestamp = -1;
  records.push_back(odd);
  odd.rating = 3.4028235e38f;
  odd.timestamp = std::numeric_limits<int64_t>::max();
  records.push_back(odd);
  odd.rating = -0.0f;
  odd.timestamp = 0;
  records.push_back(odd);
  odd.rating = 1e-45f;  // denormal
  records.push_back(odd);
  return records;
}

TEST(NormalisedJsonl, RoundTripIsExact) {
  for (const Record& want : sample_records()) {
    std::string line;
    seller::data::append_record_jsonl(want, line);
    ASSERT_EQ(line.back(), '\n');
    ASSERT_EQ(line.find('\n'), line.size() - 1) << "one line per record: " << line;
    Record got;
    ASSERT_TRUE(seller::data::parse_record_jsonl(line.substr(0, line.size() - 1), got));
    EXPECT_TRUE(same(want, got)) << line;
    // The text is standard JSON too.
    EXPECT_TRUE(nlohmann::json::accept(line));
  }
}

TEST(NormalisedJsonl, OmitsAbsentFields) {
  Record r;
  r.user = "u";
  r.item = "i";
  std::string line;
  seller::data::append_record_jsonl(r, line);
  EXPECT_EQ(line, "{\"user\":\"u\",\"item\":\"i\"}\n");
  r.rating = 5;
  r.timestamp = 1000;
  r.category = "c";
  line.clear();
  seller::data::append_record_jsonl(r, line);
  EXPECT_EQ(line,
            "{\"user\":\"u\",\"item\":\"i\",\"rating\":5,\"timestamp\":1000,\"category\":\"c\"}\n");
}

TEST(NormalisedJsonl, InvalidUtf8BecomesReplacementCharacter) {
  Record r;
  r.user = "u";
  r.item = "i";
  r.review = std::string("ok \xFF bad \xC3 cut \xED\xA0\x80 surrogate");
  std::string line;
  seller::data::append_record_jsonl(r, line);
  Record got;
  ASSERT_TRUE(seller::data::parse_record_jsonl(line.substr(0, line.size() - 1), got));
  EXPECT_EQ(got.review,
            "ok \xEF\xBF\xBD bad \xEF\xBF\xBD cut \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD surrogate");
}

TEST(NormalisedJsonl, FileRoundTripPlainAndGzip) {
  TempDir dir;
  std::string text;
  const auto records = sample_records();
  for (const Record& r : records) seller::data::append_record_jsonl(r, text);
  for (const char* name : {"data.jsonl", "data.jsonl.gz"}) {
    write_file(dir / name, text);
    std::vector<Record> got;
    const auto stats =
        seller::data::read_records(InputFormat::kSynthetic, dir / name, {},
                                   [&](const Record& r, const seller::data::SourcePosition& p) {
                                     EXPECT_EQ(p.line, got.size() + 1);
                                     got.push_back(r);
                                   });
    ASSERT_EQ(got.size(), records.size());
    for (size_t i = 0; i < got.size(); ++i) EXPECT_TRUE(same(records[i], got[i])) << i;
    EXPECT_EQ(stats.records, records.size());
    EXPECT_EQ(stats.bytes, text.size());
    EXPECT_EQ(stats.lines, records.size());
  }
}

std::string reason_of(const std::string& line) {
  Record r;
  try {
    seller::data::parse_record_jsonl(line, r);
  } catch (const DataError& e) {
    return e.what();
  }
  return "<no error>";
}

TEST(NormalisedJsonl, MalformedLinesGiveReasons) {
  EXPECT_EQ(reason_of(R"({"item":"i"})"), "missing or empty 'user'");
  EXPECT_EQ(reason_of(R"({"user":"u"})"), "missing or empty 'item'");
  EXPECT_EQ(reason_of(R"({"user":"u","item":"i","rating":"abc"})"),
            "'rating' must be a number, got string");
  EXPECT_EQ(reason_of(R"({"user":"u","item":"i","timestamp":1.5})"),
            "'timestamp' must be an integer, got 1.5");
  EXPECT_EQ(reason_of(R"({"user":"u","item":"i","rating":1e999})"),
            "invalid JSON at byte 37: number overflow parsing '1e999'");
  EXPECT_EQ(reason_of(R"({"user":"u","item":"i","extra":1})"), "unknown key 'extra'");
  EXPECT_EQ(reason_of(R"({"user":7,"item":"i"})"), "'user' must be a string, got number");
  EXPECT_EQ(reason_of(R"({"user":"u","item":["i"]})"), "'item' must be a string, got array");
  EXPECT_EQ(reason_of(R"(["u","i"])"), "expected a JSON object, got array");
  EXPECT_NE(reason_of(R"({"user":"u","item":"i"} trailing)").find("invalid JSON"),
            std::string::npos);
  EXPECT_NE(reason_of(R"({"user":"u","item":"i")").find("invalid JSON"), std::string::npos);
  EXPECT_EQ(reason_of(R"({"user":"u","item":"i","review":null,"rating":null})"), "<no error>");
}

TEST(NormalisedJsonl, EmptyFileIsAnErrorNamingThePath) {
  TempDir dir;
  write_file(dir / "empty.jsonl", "\n\n");
  try {
    seller::data::read_records(InputFormat::kSynthetic, dir / "empty.jsonl", {},
                               [](const auto&, const auto&) {});
    FAIL() << "expected DataError";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("empty.jsonl: empty input"), std::string::npos)
        << e.what();
  }
}

}  // namespace
