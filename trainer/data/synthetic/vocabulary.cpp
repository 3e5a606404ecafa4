// Word lists of the synthetic dataset (see vocabulary.h). Entries are plain literals; the order is
// part of the generated output.
#include "trainer/data/synthetic/vocabulary.h"

#include <array>

namespace seller::data::synthetic {
namespace {

using namespace std::string_view_literals;

constexpr std::array kElectronicsNouns = {
    "Wireless Earbuds"sv, "Bluetooth Speaker"sv, "Smart Watch"sv, "Tablet"sv,
    "Power Bank"sv,       "Headphones"sv,        "Webcam"sv,      "E-Reader"sv};
constexpr std::array kBeautyNouns = {"Face Cream"sv,        "Shampoo"sv,     "Perfume"sv,
                                     "Lip Balm"sv,          "Body Lotion"sv, "Serum"sv,
                                     "Eyeshadow Palette"sv, "Hair Oil"sv};
constexpr std::array kClothingNouns = {"Running Shoes"sv, "Denim Jacket"sv, "Wool Sweater"sv,
                                       "Yoga Pants"sv,    "Rain Coat"sv,    "T-Shirt"sv,
                                       "Hiking Boots"sv,  "Scarf"sv};
constexpr std::array kHomeNouns = {"Blender"sv,   "Coffee Maker"sv, "Vacuum Cleaner"sv,
                                   "Air Fryer"sv, "Desk Lamp"sv,    "Cookware Set"sv,
                                   "Kettle"sv,    "Storage Rack"sv};

constexpr std::array<CategoryWords, kCategoryCount> kCategories = {{
    {"Electronics"sv, kElectronicsNouns},
    {"Beauty"sv, kBeautyNouns},
    {"Clothing"sv, kClothingNouns},
    {"Home & Kitchen"sv, kHomeNouns},
}};

constexpr std::array<AspectWords, kMaxAspects> kAspects = {{
    {"battery life"sv, 0, "lasts for days"sv, "drains far too quickly"sv},
    {"scent"sv, 1, "smells fresh and light"sv, "smells harsh and artificial"sv},
    {"fit"sv, 2, "is true to size"sv, "is awkward and loose"sv},
    {"durability"sv, 3, "holds up to daily use"sv, "gave out within weeks"sv, true},
    {"sound quality"sv, 0, "is clear and full"sv, "is tinny and flat"sv},
    {"texture"sv, 1, "feels smooth and light"sv, "feels greasy and heavy"sv},
    {"fabric"sv, 2, "feels soft and sturdy"sv, "feels thin and scratchy"sv},
    {"ease of cleaning"sv, 3, "makes cleanup take seconds"sv, "makes cleanup a chore"sv},
    {"screen"sv, 0, "is bright and sharp"sv, "is dim and washed out"sv},
    {"moisture"sv, 1, "keeps skin hydrated all day"sv, "leaves skin dry by noon"sv},
    {"comfort"sv, 2, "stays comfortable all day"sv, "gets uncomfortable within an hour"sv},
    {"noise"sv, 3, "stays whisper quiet"sv, "is loud enough to be annoying"sv},
    {"connectivity"sv, 0, "pairs instantly and stays connected"sv, "keeps dropping out"sv},
    {"longevity"sv, 1, "lasts through the whole day"sv, "fades within hours"sv},
    {"sizing"sv, 2, "matches the size chart"sv, "runs a full size small"sv},
    {"capacity"sv, 3, "holds more than enough"sv, "is too small for a family"sv},
    {"build quality"sv, 0, "feels solid and well made"sv, "feels cheap and flimsy"sv, true},
    {"packaging"sv, 1, "arrived well sealed"sv, "arrived cracked and leaking"sv, true},
    {"stitching"sv, 2, "is neat and strong"sv, "came apart after a few washes"sv},
    {"design"sv, 3, "looks sleek and modern"sv, "looks cheap and dated"sv, true},
    {"charging speed"sv, 0, "gets to full in an hour"sv, "takes forever"sv},
    {"color"sv, 1, "matches the photos exactly"sv, "looks nothing like the photos"sv, true},
    {"style"sv, 2, "gets compliments every time"sv, "looks dated"sv, true},
    {"assembly"sv, 3, "took five minutes"sv, "took hours with unclear instructions"sv},
    {"weight"sv, 0, "is light enough to carry anywhere"sv, "is heavy and bulky"sv, true},
    {"ingredient list"sv, 1, "is gentle on sensitive skin"sv, "caused irritation"sv},
    {"warmth"sv, 2, "keeps out the cold"sv, "lets the wind straight through"sv},
    {"value"sv, 3, "is excellent for the price"sv, "is poor for the price"sv, true},
    {"setup"sv, 0, "took about a minute"sv, "was confusing and slow"sv},
    {"skin feel"sv, 1, "leaves skin soft"sv, "leaves a sticky film"sv},
    {"breathability"sv, 2, "stays cool during workouts"sv, "traps heat and sweat"sv},
    {"temperature control"sv, 3, "holds the temperature steadily"sv, "overheats and scorches"sv},
}};

constexpr std::array kTitleAdjectives = {"Compact"sv,     "Premium"sv, "Classic"sv,  "Ultra"sv,
                                         "Essential"sv,   "Deluxe"sv,  "Everyday"sv, "Pro"sv,
                                         "Lightweight"sv, "Smart"sv,   "Natural"sv,  "Modern"sv,
                                         "Vintage"sv,     "Eco"sv,     "Advanced"sv, "Signature"sv};

constexpr std::array kNegative = {"poor"sv, "disappointing"sv, "weak"sv, "subpar"sv, "terrible"sv};
constexpr std::array kNeutral = {"okay"sv, "average"sv, "acceptable"sv, "fine"sv,
                                 "nothing special"sv};
constexpr std::array kPositive = {"excellent"sv, "great"sv, "impressive"sv, "fantastic"sv,
                                  "superb"sv};

}  // namespace

std::span<const CategoryWords> categories() { return kCategories; }
std::span<const AspectWords> aspects() { return kAspects; }
std::span<const std::string_view> title_adjectives() { return kTitleAdjectives; }

std::span<const std::string_view> sentiment_adjectives(Sentiment s) {
  switch (s) {
    case Sentiment::kNegative:
      return kNegative;
    case Sentiment::kNeutral:
      return kNeutral;
    case Sentiment::kPositive:
      break;
  }
  return kPositive;
}

}  // namespace seller::data::synthetic
