// PNG plots (eval/plot): the header check on hand-built bytes, bar charts and training curves
// rendered by gnuplot to valid PNGs of the requested size, and the clear error when the tool is
// missing. Without gnuplot the rendering tests skip (and fail under $CI, where setup installs it).
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "eval/plot/gnuplot_plot.h"
#include "eval/plot/png_info.h"
#include "tests/support/test_support.h"
#include "trainer/core/error.h"

namespace {

using namespace seller::eval;
namespace t = seller::testing;

#define GNUPLOT_OR_SKIP()                                         \
  do {                                                            \
    std::string why;                                              \
    if (!gnuplot_available(&why)) {                               \
      if (t::in_ci()) FAIL() << "gnuplot missing in CI: " << why; \
      GTEST_SKIP() << "gnuplot missing: " << why;                 \
    }                                                             \
  } while (0)

// The first 33 bytes of a 3x2 RGBA PNG: signature, IHDR length, type, data, CRC.
std::string ihdr_png(uint32_t crc) {
  std::string s = "\x89PNG\r\n\x1a\n";
  s +=
      std::string("\0\0\0\x0d", 4) + "IHDR" + std::string("\0\0\0\x03\0\0\0\x02\x08\x06\0\0\0", 13);
  for (int k = 3; k >= 0; --k) s += static_cast<char>((crc >> (8 * k)) & 0xFF);
  return s;
}

TEST(PngInfo, HeaderChecks) {
  t::TempDir dir;
  // zlib.crc32(b"IHDR" + bytes([0,0,0,3, 0,0,0,2, 8, 6, 0, 0, 0])) == 0x9d74661a (Python).
  t::write_file(dir / "ok.png", ihdr_png(0x9d74661a));
  std::string why;
  const auto info = read_png_info(dir / "ok.png", &why);
  ASSERT_TRUE(info) << why;
  EXPECT_EQ(info->width, 3u);
  EXPECT_EQ(info->height, 2u);
  EXPECT_EQ(info->bit_depth, 8);
  EXPECT_EQ(info->color_type, 6);
  t::write_file(dir / "crc.png", ihdr_png(0x12345678));
  EXPECT_FALSE(read_png_info(dir / "crc.png", &why));
  EXPECT_NE(why.find("CRC"), std::string::npos);
  t::write_file(dir / "text.png", "not a png at all, just some text here...");
  EXPECT_FALSE(read_png_info(dir / "text.png", &why));
  EXPECT_NE(why.find("signature"), std::string::npos);
  EXPECT_FALSE(read_png_info(dir / "missing.png", &why));
}

TEST(Plot, BarsWithErrorBars) {
  GNUPLOT_OR_SKIP();
  t::TempDir dir;
  BarChart c;
  c.title = "text_quality ^ with odd \"chars\"";
  c.ylabel = "x100";
  c.categories = {"BLEU-4 (PETER tokens)", "ROUGE-L F (rouge_score, x100)"};
  c.series = {{"A", {15.9, 32.7}, {15.7, 32.5}, {16.1, 32.9}},
              {"B's", {14.5, 30.1}, {14.2, 29.8}, {14.8, 30.4}}};
  plot_bars(c, dir / "bars.png");
  const auto info = read_png_info(dir / "bars.png");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->width, 1000u);
  EXPECT_EQ(info->height, 600u);
  EXPECT_FALSE(std::filesystem::exists(dir / ".plot-scratch"));
  EXPECT_FALSE(std::filesystem::exists(dir / ".tmp-bars.png"));
  c.series[1].value.pop_back();
  EXPECT_THROW(plot_bars(c, dir / "bad.png"), seller::ConfigError);
}

TEST(Plot, TrainingCurvesEveryNumericField) {
  GNUPLOT_OR_SKIP();
  t::TempDir dir;
  t::write_file(dir / "metrics.jsonl",
                "{\"epoch\":1,\"step\":100,\"loss\":2.5,\"phase\":\"train\"}\n\n"
                "{\"epoch\":1,\"step\":200,\"loss\":2.1,\"valid_ndcg10\":0.05}\n"
                "{\"epoch\":2,\"step\":300,\"loss\":1.9,\"valid_ndcg10\":0.07,\"lr\":1e-3}\n");
  const auto files = plot_training_curves(dir / "metrics.jsonl", dir / "curves");
  // x axis = step; fields: epoch, loss, lr, valid_ndcg10 ("phase" is not numeric).
  ASSERT_EQ(files.size(), 4u);
  for (const char* f :
       {"curve_epoch.png", "curve_loss.png", "curve_lr.png", "curve_valid_ndcg10.png"}) {
    const auto info = read_png_info(dir / "curves" / f);
    EXPECT_TRUE(info) << f;
  }
  t::write_file(dir / "bad.jsonl", "{\"step\":1,\"loss\":2}\n[1, 2]\n");
  try {
    plot_training_curves(dir / "bad.jsonl", dir / "curves");
    ADD_FAILURE();
  } catch (const seller::DataError& e) {
    EXPECT_NE(std::string(e.what()).find("bad.jsonl:2: not a JSON object"), std::string::npos);
  }
  t::write_file(dir / "none.jsonl", "{\"step\":1,\"phase\":\"x\"}\n");
  EXPECT_THROW(plot_training_curves(dir / "none.jsonl", dir / "curves"), seller::DataError);
}

TEST(Plot, MissingToolIsAClearError) {
  t::TempDir dir;
  setenv("SELLER_GNUPLOT", "/nonexistent/gnuplot", 1);
  std::string why;
  EXPECT_FALSE(gnuplot_available(&why));
  BarChart c;
  c.categories = {"m"};
  c.series = {{"A", {1}, {1}, {1}}};
  try {
    plot_bars(c, dir / "x.png");
    ADD_FAILURE();
  } catch (const seller::Error& e) {
    EXPECT_NE(std::string(e.what()).find("gnuplot-nox"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "x.png"));
  unsetenv("SELLER_GNUPLOT");
}

}  // namespace
