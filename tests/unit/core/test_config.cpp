// Config loading: defaults < files < --set, strict types, unknown keys, impossible values,
// and error messages that name the key path, the file and line, and the value.
#include <gtest/gtest.h>

#include <yaml-cpp/yaml.h>

#include "tests/support/test_support.h"
#include "trainer/core/config.h"
#include "trainer/core/config_loader.h"
#include "trainer/core/error.h"

namespace seller::core {
namespace {

using seller::testing::TempDir;
using seller::testing::write_file;

// Runs fn and returns the ConfigError message, failing the test if nothing is thrown.
template <class Fn>
std::string error_of(Fn&& fn) {
  try {
    fn();
  } catch (const ConfigError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a ConfigError";
  return "";
}

TEST(Config, DefaultsValidate) {
  Config c;
  ConfigLoader loader(c);
  EXPECT_NO_THROW(loader.validate());
  EXPECT_EQ(c.data.split, "leave_one_out");
  EXPECT_EQ(loader.origin("data.split"), "default");
}

TEST(Config, PriorityDefaultsThenFilesThenOverrides) {
  TempDir dir;
  write_file(dir / "a.yaml", "seed: 5\ndata:\n  split: temporal\n  test_fraction: 0.2\n");
  write_file(dir / "b.yaml", "data:\n  test_fraction: 0.25\n");
  auto c = load_config<Config>({dir / "a.yaml", dir / "b.yaml"}, {"seed=9", "synthetic.users=12"});
  EXPECT_EQ(c.seed, 9);                       // --set beats a.yaml
  EXPECT_EQ(c.data.split, "temporal");        // a.yaml beats the default
  EXPECT_DOUBLE_EQ(c.data.test_fraction, 0.25);  // b.yaml beats a.yaml
  EXPECT_EQ(c.synthetic.users, 12);
  EXPECT_EQ(c.synthetic.items, SyntheticConfig{}.items);  // untouched default
}

TEST(Config, OriginsNameFileAndLine) {
  TempDir dir;
  write_file(dir / "a.yaml", "seed: 5\ndata:\n  split: temporal\n");
  Config c;
  ConfigLoader loader(c);
  loader.apply_file(dir / "a.yaml");
  loader.apply_override("seed=7");
  EXPECT_EQ(loader.origin("data.split"), (dir / "a.yaml").string() + ":3");
  EXPECT_EQ(loader.origin("seed"), "--set seed=7");
}

TEST(Config, UnknownKeyNamesPathFileLineAndValidKeys) {
  TempDir dir;
  write_file(dir / "bad.yaml", "seed: 1\ndata:\n  dedup: true\n  splitt: temporal\n");
  std::string msg = error_of([&] { load_config<Config>({dir / "bad.yaml"}, {}); });
  EXPECT_NE(msg.find("bad.yaml:4"), std::string::npos) << msg;
  EXPECT_NE(msg.find("unknown config key 'data.splitt'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("split"), std::string::npos) << msg;  // lists the valid keys
}

TEST(Config, UnknownTopLevelAndOverrideKeys) {
  std::string msg = error_of([&] { load_config<Config>({}, {"nope.x=1"}); });
  EXPECT_NE(msg.find("--set nope.x=1"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'nope'"), std::string::npos) << msg;
  msg = error_of([&] { load_config<Config>({}, {"data.sort_memory=1"}); });
  EXPECT_NE(msg.find("data.sort_memory"), std::string::npos) << msg;
}

struct TypeCase {
  const char* assignment;
  const char* expected_fragment;
};

class ConfigTypeErrors : public ::testing::TestWithParam<TypeCase> {};

TEST_P(ConfigTypeErrors, Rejected) {
  std::string msg = error_of([&] { load_config<Config>({}, {GetParam().assignment}); });
  EXPECT_NE(msg.find(GetParam().expected_fragment), std::string::npos) << msg;
}

INSTANTIATE_TEST_SUITE_P(
    All, ConfigTypeErrors,
    ::testing::Values(TypeCase{"seed=1.5", "'seed' expects an integer, got '1.5'"},
                      TypeCase{"seed=12abc", "expects an integer"},
                      TypeCase{"seed=99999999999999999999", "within 64 bits"},
                      TypeCase{"data.dedup=yes", "expects a boolean (true or false), got 'yes'"},
                      TypeCase{"data.test_fraction=abc", "expects a finite number"},
                      TypeCase{"data.test_fraction=nan", "expects a finite number"},
                      TypeCase{"data.split=random", "one of leave_one_out | temporal"},
                      TypeCase{"data=3", "'data' expects a mapping"},
                      TypeCase{"run.name=[a, b]", "expects a string, got a list"},
                      TypeCase{"seed", "expected key.path=value"},
                      TypeCase{"data..split=x", "empty component"}));

TEST(Config, TypeErrorInFileNamesLine) {
  TempDir dir;
  write_file(dir / "t.yaml", "# comment\nsynthetic:\n  users: many\n");
  std::string msg = error_of([&] { load_config<Config>({dir / "t.yaml"}, {}); });
  EXPECT_NE(msg.find("t.yaml:3"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'synthetic.users' expects an integer, got 'many'"), std::string::npos)
      << msg;
}

TEST(Config, DuplicateKeyRejected) {
  TempDir dir;
  write_file(dir / "d.yaml", "seed: 1\nseed: 2\n");
  std::string msg = error_of([&] { load_config<Config>({dir / "d.yaml"}, {}); });
  EXPECT_NE(msg.find("given twice"), std::string::npos) << msg;
}

TEST(Config, ImpossibleValuesListedWithOrigin) {
  TempDir dir;
  write_file(dir / "v.yaml", "data:\n  test_fraction: 1.5\nsynthetic:\n  users: 0\n");
  std::string msg = error_of([&] { load_config<Config>({dir / "v.yaml"}, {}); });
  EXPECT_NE(msg.find("'data.test_fraction' = 1.5 must be in [0, 1)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("v.yaml:2"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'synthetic.users' = 0 must be >= 1"), std::string::npos) << msg;
  EXPECT_NE(msg.find("v.yaml:4"), std::string::npos) << msg;
}

TEST(Config, CrossFieldConstraint) {
  std::string msg = error_of([&] {
    load_config<Config>({}, {"data.valid_fraction=0.5", "data.test_fraction=0.5"});
  });
  EXPECT_NE(msg.find("must leave room for training"), std::string::npos) << msg;
}

TEST(Config, MissingAndMalformedFiles) {
  TempDir dir;
  std::string msg = error_of([&] { load_config<Config>({dir / "absent.yaml"}, {}); });
  EXPECT_NE(msg.find("absent.yaml"), std::string::npos) << msg;
  write_file(dir / "broken.yaml", "data:\n  split: [unclosed\n");
  msg = error_of([&] { load_config<Config>({dir / "broken.yaml"}, {}); });
  EXPECT_NE(msg.find("broken.yaml:"), std::string::npos) << msg;
  EXPECT_NE(msg.find("invalid YAML"), std::string::npos) << msg;
  write_file(dir / "list.yaml", "- a\n- b\n");
  msg = error_of([&] { load_config<Config>({dir / "list.yaml"}, {}); });
  EXPECT_NE(msg.find("must be a mapping"), std::string::npos) << msg;
}

TEST(Config, EmptyFileAndEmptySectionKeepDefaults) {
  TempDir dir;
  write_file(dir / "e.yaml", "");
  write_file(dir / "s.yaml", "data:\n");
  auto c = load_config<Config>({dir / "e.yaml", dir / "s.yaml"}, {});
  EXPECT_EQ(c.data.split, DataConfig{}.split);
}

TEST(Config, DumpLoadsBackToSameValues) {
  Config c = load_config<Config>(
      {}, {"seed=42", "data.test_fraction=0.15", "run.name='exp \"7\": a'", "data.split=temporal"});
  ConfigLoader loader(c);
  std::string dumped = loader.dump();
  EXPECT_NE(dumped.find("test_fraction: 0.15"), std::string::npos) << dumped;
  Config back;
  ConfigLoader back_loader(back);
  back_loader.apply_text(dumped, "dump");
  back_loader.validate();
  EXPECT_EQ(back.seed, 42);
  EXPECT_DOUBLE_EQ(back.data.test_fraction, 0.15);
  EXPECT_EQ(back.run.name, "exp \"7\": a");
  EXPECT_EQ(back.data.split, "temporal");
  EXPECT_EQ(ConfigLoader(back).dump(), dumped);  // a fixed point
}

}  // namespace
}  // namespace seller::core
