// Tests of io::LineReader (plain and gzip, CRLF, missing final newline, empty, truncated and
// corrupt gzip, long lines) and of the format-name dispatcher.
#include <string>
#include <vector>

#include "tests/support/test_support.h"
#include "trainer/core/error.h"
#include "trainer/data/readers/reader.h"
#include "trainer/io/line_reader.h"

namespace {

using seller::DataError;
using seller::io::LineReader;
using seller::testing::TempDir;
using seller::testing::write_file;

std::vector<std::string> read_all(const std::filesystem::path& path, size_t buffer = 1 << 20) {
  LineReader reader(path, buffer);
  std::vector<std::string> lines;
  std::string_view line;
  while (reader.next(line)) {
    lines.emplace_back(line);
    EXPECT_EQ(reader.line_number(), lines.size());
  }
  return lines;
}

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const DataError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a DataError";
  return {};
}

TEST(LineReader, PlainAndGzipGiveTheSameLines) {
  TempDir dir;
  const std::string text = "first\nsecond line\n\nfourth";
  write_file(dir / "a.txt", text);
  write_file(dir / "a.txt.gz", text);
  const std::vector<std::string> want{"first", "second line", "", "fourth"};
  EXPECT_EQ(read_all(dir / "a.txt"), want);
  EXPECT_EQ(read_all(dir / "a.txt.gz"), want);
  LineReader reader(dir / "a.txt.gz");
  EXPECT_TRUE(reader.is_gzip());
  std::string_view line;
  while (reader.next(line)) {
  }
  EXPECT_EQ(reader.bytes_read(), text.size());
  EXPECT_EQ(reader.line_number(), 4u);
}

TEST(LineReader, CrlfAndFinalNewline) {
  TempDir dir;
  write_file(dir / "crlf.txt", "a\r\nb\r\n\r\nc\r");
  EXPECT_EQ(read_all(dir / "crlf.txt"), (std::vector<std::string>{"a", "b", "", "c"}));
  write_file(dir / "nl.txt", "x\ny\n");
  EXPECT_EQ(read_all(dir / "nl.txt"), (std::vector<std::string>{"x", "y"}));
}

TEST(LineReader, EmptyFilesGiveNoLine) {
  TempDir dir;
  write_file(dir / "empty.txt", "");
  write_file(dir / "empty.txt.gz", "");
  EXPECT_TRUE(read_all(dir / "empty.txt").empty());
  EXPECT_TRUE(read_all(dir / "empty.txt.gz").empty());
}

TEST(LineReader, LinesLongerThanTheBufferAndAcrossRefills) {
  TempDir dir;
  std::string text;
  std::vector<std::string> want;
  for (int i = 0; i < 200; ++i) {
    want.push_back(std::string(static_cast<size_t>(i * 7 % 300), static_cast<char>('a' + i % 26)));
    text += want.back() + "\n";
  }
  write_file(dir / "long.txt.gz", text);
  EXPECT_EQ(read_all(dir / "long.txt.gz", 64), want);  // buffer smaller than many lines
  EXPECT_EQ(read_all(dir / "long.txt.gz", 1000), want);
}

TEST(LineReader, MissingFileAndFolderNameThePath) {
  TempDir dir;
  EXPECT_NE(error_of([&] { LineReader r(dir / "nope.json"); }).find("nope.json: no such file"),
            std::string::npos);
  EXPECT_NE(error_of([&] { LineReader r(dir.path()); }).find("is a directory"), std::string::npos);
}

TEST(LineReader, TruncatedGzipIsAnErrorNamingTheFile) {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 20000; ++i) text += "line number " + std::to_string(i) + "\n";
  write_file(dir / "full.gz", text);
  const std::string gz = seller::testing::read_file(dir / "full.gz");
  write_file(dir / "cut.bin", gz.substr(0, gz.size() / 2));  // .bin: written as is
  const std::string message = error_of([&] { read_all(dir / "cut.bin"); });
  EXPECT_NE(message.find("cut.bin"), std::string::npos) << message;
  EXPECT_NE(message.find("truncated"), std::string::npos) << message;
  // Cut inside the 8-byte trailer: the data is complete but the stream is not.
  write_file(dir / "trailer.bin", gz.substr(0, gz.size() - 3));
  EXPECT_NE(error_of([&] { read_all(dir / "trailer.bin"); }).find("trailer.bin"),
            std::string::npos);
}

TEST(LineReader, CorruptGzipIsAnErrorNamingTheFile) {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 5000; ++i) text += "some text to compress " + std::to_string(i) + "\n";
  write_file(dir / "ok.gz", text);
  std::string gz = seller::testing::read_file(dir / "ok.gz");
  for (size_t i = 20; i < 60; ++i) gz[i] = static_cast<char>(gz[i] ^ 0x5A);
  write_file(dir / "bad.bin", gz);
  const std::string message = error_of([&] { read_all(dir / "bad.bin"); });
  EXPECT_NE(message.find("bad.bin"), std::string::npos) << message;
}

TEST(InputFormat, NamesRoundTripAndUnknownListsValid) {
  using seller::data::InputFormat;
  for (auto f : {InputFormat::kAmazon, InputFormat::kAmazon2023, InputFormat::kXRec,
                 InputFormat::kS3Rec, InputFormat::kSynthetic}) {
    EXPECT_EQ(seller::data::parse_input_format(seller::data::format_name(f)), f);
  }
  const std::string message = error_of([] { seller::data::parse_input_format("yelp"); });
  EXPECT_NE(message.find("'yelp'"), std::string::npos);
  EXPECT_NE(message.find("amazon, amazon2023, xrec, s3rec, synthetic"), std::string::npos)
      << message;
}

TEST(ReadRecords, MissingInputNamesThePath) {
  TempDir dir;
  const auto missing = dir / "missing.json.gz";
  const std::string message = error_of([&] {
    seller::data::read_records(seller::data::InputFormat::kAmazon, missing, {},
                               [](const auto&, const auto&) {});
  });
  EXPECT_NE(message.find(missing.string()), std::string::npos) << message;
}

}  // namespace
