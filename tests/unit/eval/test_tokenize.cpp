// Hand-checked cases for the three metric tokenizers and the UTF-8 helpers (the bulk check
// against the Python packages is in test_text_oracles.cpp).
#include <gtest/gtest.h>

#include "eval/text/tokenize.h"
#include "eval/text/utf8.h"

namespace seller::eval {
namespace {

using Tokens = std::vector<std::string>;

TEST(Tokenize13a, SplitsPunctuationButNotNumbers) {
  // '!' is in the 13a class; ',' after a letter splits; '.' and ',' between digits stay.
  EXPECT_EQ(normalize_13a("Hello, world!"), "Hello , world !");
  // '$' is in the class; "5.50" keeps its period; "50," is a digit before ',' followed by a
  // space, so pass 3 splits it; "ok." splits in pass 2.
  EXPECT_EQ(normalize_13a("It costs $5.50, ok."), "It costs $ 5.50 , ok .");
  // A dash after a digit splits (pass 4); a dash between letters does not.
  EXPECT_EQ(normalize_13a("3-4 km, well-known"), "3 - 4 km , well-known");
  EXPECT_EQ(tokenize_13a("don't"), (Tokens{"don't"}));
}

TEST(Tokenize13a, LanguageIndependentPart) {
  EXPECT_EQ(normalize_13a("a&amp;b &quot;q&quot; &lt;x&gt;"), "a & b \" q \" < x >");
  EXPECT_EQ(normalize_13a("&amp;lt;"), "<");  // replacements run one after the other
  EXPECT_EQ(normalize_13a("x<skipped>y"), "xy");
  EXPECT_EQ(normalize_13a("end-\nline\nnext"), "endline next");
  // sacreBLEU rstrips first, so a final "-\n" loses its newline and keeps the dash.
  EXPECT_EQ(normalize_13a("abc-\n"), "abc-");
  // Python's str.split() whitespace includes NBSP and U+3000 but not U+200B.
  EXPECT_EQ(tokenize_13a("a\xc2\xa0"
                         "b\xe3\x80\x80"
                         "c\xe2\x80\x8b"
                         "d"),
            (Tokens{"a", "b",
                    "c\xe2\x80\x8b"
                    "d"}));
  EXPECT_EQ(normalize_13a(""), "");
  EXPECT_EQ(normalize_13a("   \n"), "");
}

TEST(TokenizeRougeScore, LowercaseAlnumRuns) {
  EXPECT_EQ(tokenize_rouge_score("Hello, World 42!"), (Tokens{"hello", "world", "42"}));
  EXPECT_EQ(tokenize_rouge_score("don't re-use"), (Tokens{"don", "t", "re", "use"}));
  // Non-ASCII letters are separators ("café" -> "caf"), except the two code points whose
  // Python lowercase contains ASCII: U+0130 -> "i" + U+0307, U+212A (Kelvin) -> "k".
  EXPECT_EQ(tokenize_rouge_score("caf\xc3\xa9 ok"), (Tokens{"caf", "ok"}));
  EXPECT_EQ(tokenize_rouge_score("\xc4\xb0x"), (Tokens{"i", "x"}));
  EXPECT_EQ(tokenize_rouge_score("\xe2\x84\xaa"
                                 "elvin"),
            (Tokens{"kelvin"}));
  EXPECT_TRUE(tokenize_rouge_score("!!! \xf0\x9f\x98\x80").empty());
  EXPECT_EQ(tokenize_rouge_score("a\xff"
                                 "b"),
            (Tokens{"a", "b"}));  // invalid byte separates
}

TEST(TokenizePeter, PeplerPostprocessing) {
  // Clitics split off; "(" ")" spaced; runs of , ! ? . collapse to one token; ":" becomes ","
  // and ";" becomes "."; no lowercasing.
  EXPECT_EQ(tokenize_peter("I don't like it's (price)!!! ok:: yes;; no..."),
            (Tokens{"I", "do", "n't", "like", "it", "'s", "(", "price", ")", "!", "ok", ",", "yes",
                    ".", "no", "."}));
  EXPECT_EQ(tokenize_peter("we'll I'm they've you're he'd"),
            (Tokens{"we", "'ll", "I", "'m", "they", "'ve", "you", "'re", "he", "'d"}));
  EXPECT_EQ(tokenize_peter("a,,b??c"), (Tokens{"a", ",", "b", "?", "c"}));
  EXPECT_EQ(tokenize_peter("3.5-star"), (Tokens{"3", ".", "5-star"}));
  EXPECT_TRUE(tokenize_peter(" \t\n").empty());
}

TEST(Tokenize, DispatchAndNames) {
  EXPECT_EQ(tokenize("A b.", Tokenizer::kWhitespace), (Tokens{"A", "b."}));
  EXPECT_EQ(tokenize("A b.", Tokenizer::kPeter), (Tokens{"A", "b", "."}));
  EXPECT_EQ(tokenize("A b.", Tokenizer::kSacre13a), (Tokens{"A", "b", "."}));
  EXPECT_EQ(tokenize("A b.", Tokenizer::kRougeScore), (Tokens{"a", "b"}));
  EXPECT_EQ(tokenizer_name(Tokenizer::kSacre13a), "13a");
  EXPECT_EQ(tokenize_corpus({"a b", "c"}, Tokenizer::kWhitespace).size(), 2u);
}

TEST(Utf8, ValidityAndDecoding) {
  EXPECT_TRUE(is_valid_utf8("plain \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
  EXPECT_FALSE(is_valid_utf8("\xc3"));              // truncated
  EXPECT_FALSE(is_valid_utf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // > U+10FFFF
  size_t len = 0;
  EXPECT_EQ(decode_utf8("\xe2\x82\xac", 0, len), U'\u20AC');
  EXPECT_EQ(len, 3u);
  EXPECT_TRUE(is_python_space(0x1C));
  EXPECT_TRUE(is_python_space(0x85));
  EXPECT_FALSE(is_python_space(0x200B));
  EXPECT_EQ(rstrip_python_whitespace("ab \xc2\xa0\n"), "ab");
  EXPECT_EQ(split_python_whitespace("  a  b "), (Tokens{"a", "b"}));
}

}  // namespace
}  // namespace seller::eval
