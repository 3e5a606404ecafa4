// Amazon 2023 lines through a small context-stack SAX handler. See amazon2023_reader.h.
#include "trainer/data/readers/amazon2023_reader.h"

#include <limits>

#include "trainer/data/readers/json_fields.h"
#include "trainer/data/readers/line_loop.h"

namespace seller::data {
namespace {

using json::Json;
using json::JsonType;

struct Review {
  Record record;  // user, category are filled when the line is complete
  std::string excerpt, main_category, asin;
  bool has_full = false;
  void clear() {
    record.clear(), excerpt.clear(), main_category.clear(), asin.clear();
    has_full = false;
  }
};

enum class Ctx : uint8_t { kRoot, kHistory, kReview, kProduct, kSkip };
enum class Kind : uint8_t { kIgnore, kString, kRating, kTimestamp, kHistory, kReview, kProduct };

struct Target {
  Kind kind = Kind::kIgnore;
  std::string* str = nullptr;
  bool* seen = nullptr;  // set when the value is present and not null
  std::string_view name;
};

class Amazon2023Sax : public json::SaxDefaults {
 public:
  // Reviews in history order; heldout_ separately (its key may come before `history`).
  std::vector<Review> history_;
  size_t history_size_ = 0;
  Review heldout_, plain_;
  std::string user_, category_;
  bool has_history_ = false, has_heldout_ = false;

  void reset() {
    history_size_ = 0;
    heldout_.clear(), plain_.clear(), user_.clear(), category_.clear();
    has_history_ = has_heldout_ = false;
    stack_.clear();
    target_ = {};
  }

  bool key(Json::string_t& k) {
    target_ = lookup(k);
    return true;
  }
  bool null() {
    scalar(JsonType::kNull);
    return true;
  }
  bool boolean(bool) {
    if (scalar(JsonType::kBool) && target_.kind != Kind::kIgnore) wrong(JsonType::kBool);
    return true;
  }
  bool number_integer(Json::number_integer_t v) {
    if (!scalar(JsonType::kNumber)) return true;
    guarded([&] {
      if (target_.kind == Kind::kRating)
        current()->record.rating = json::rating_from_integer(v);
      else if (target_.kind == Kind::kTimestamp)
        current()->record.timestamp = json::timestamp_from_integer(v, 1, target_.name);
      else if (target_.kind != Kind::kIgnore)
        wrong(JsonType::kNumber);
    });
    return true;
  }
  bool number_unsigned(Json::number_unsigned_t v) {
    if (!scalar(JsonType::kNumber)) return true;
    guarded([&] {
      if (target_.kind == Kind::kRating)
        current()->record.rating = static_cast<float>(v);
      else if (target_.kind == Kind::kTimestamp)
        current()->record.timestamp = json::timestamp_from_unsigned(v, 1, target_.name);
      else if (target_.kind != Kind::kIgnore)
        wrong(JsonType::kNumber);
    });
    return true;
  }
  bool number_float(Json::number_float_t v, const Json::string_t& raw) {
    if (!scalar(JsonType::kNumber)) return true;
    guarded([&] {
      if (target_.kind == Kind::kRating)
        current()->record.rating = json::rating_from_text(raw, target_.name);
      else if (target_.kind == Kind::kTimestamp)
        current()->record.timestamp = json::timestamp_from_float(v, 1, target_.name);
      else if (target_.kind != Kind::kIgnore)
        wrong(JsonType::kNumber);
    });
    return true;
  }
  bool string(Json::string_t& v) {
    if (!scalar(JsonType::kString)) return true;
    if (target_.kind == Kind::kString) {
      target_.str->assign(v);
      if (target_.seen != nullptr) *target_.seen = true;
    } else if (target_.kind != Kind::kIgnore) {
      guarded([&] { wrong(JsonType::kString); });
    }
    return true;
  }
  bool start_object(std::size_t) {
    if (stack_.empty()) {
      stack_.push_back(Ctx::kRoot);
      return true;
    }
    const Ctx parent = stack_.back();
    if (parent == Ctx::kHistory) {
      if (history_size_ == history_.size()) history_.emplace_back();
      history_[history_size_++].clear();
      stack_.push_back(Ctx::kReview);
    } else if (target_.kind == Kind::kReview) {
      has_heldout_ = true;
      stack_.push_back(Ctx::kReview);
    } else if (target_.kind == Kind::kProduct) {
      stack_.push_back(Ctx::kProduct);
    } else {
      if (target_.kind != Kind::kIgnore) guarded([&] { wrong(JsonType::kObject); });
      stack_.push_back(Ctx::kSkip);
    }
    target_ = {};
    return true;
  }
  bool start_array(std::size_t) {
    if (stack_.empty()) root_type(JsonType::kArray);
    if (stack_.back() == Ctx::kHistory) guarded([&] { wrong(JsonType::kArray); });
    if (target_.kind == Kind::kHistory) {
      has_history_ = true;
      stack_.push_back(Ctx::kHistory);
    } else {
      if (target_.kind != Kind::kIgnore) guarded([&] { wrong(JsonType::kArray); });
      stack_.push_back(Ctx::kSkip);
    }
    target_ = {};
    return true;
  }
  bool end_object() { return close(); }
  bool end_array() { return close(); }

 private:
  bool close() {
    stack_.pop_back();
    target_ = {};
    return true;
  }

  // The review the current review/product context writes to (root: the plain review).
  Review* current() {
    for (auto it = stack_.rbegin(); it != stack_.rend(); ++it) {
      if (*it == Ctx::kReview) {
        return in_history() ? &history_[history_size_ - 1] : &heldout_;
      }
    }
    return &plain_;
  }
  bool in_history() const { return stack_.size() >= 2 && stack_[1] == Ctx::kHistory; }

  Target lookup(std::string_view k) {
    const Ctx ctx = stack_.back();
    if (ctx == Ctx::kRoot) {
      if (k == "user_id") return {Kind::kString, &user_, nullptr, "user_id"};
      if (k == "category") return {Kind::kString, &category_, nullptr, "category"};
      if (k == "history") return {Kind::kHistory, nullptr, nullptr, "history"};
      if (k == "heldout") return {Kind::kReview, nullptr, nullptr, "heldout"};
      if (k == "parent_asin") return {Kind::kString, &plain_.record.item, nullptr, "parent_asin"};
      if (k == "asin") return {Kind::kString, &plain_.asin, nullptr, "asin"};
      if (k == "rating") return {Kind::kRating, nullptr, nullptr, "rating"};
      if (k == "timestamp") return {Kind::kTimestamp, nullptr, nullptr, "timestamp"};
      if (k == "text") return {Kind::kString, &plain_.record.review, nullptr, "text"};
      if (k == "title") return {Kind::kString, &plain_.record.summary, nullptr, "title"};
      return {};
    }
    if (ctx == Ctx::kReview) {
      Review& r = *current();
      if (k == "parent_asin") return {Kind::kString, &r.record.item, nullptr, "parent_asin"};
      if (k == "asin") return {Kind::kString, &r.asin, nullptr, "asin"};
      if (k == "rating") return {Kind::kRating, nullptr, nullptr, "rating"};
      if (k == "timestamp_ms") return {Kind::kTimestamp, nullptr, nullptr, "timestamp_ms"};
      if (k == "review_full") return {Kind::kString, &r.record.review, &r.has_full, "review_full"};
      if (k == "review_excerpt") return {Kind::kString, &r.excerpt, nullptr, "review_excerpt"};
      if (k == "review_title") return {Kind::kString, &r.record.summary, nullptr, "review_title"};
      if (k == "product") return {Kind::kProduct, nullptr, nullptr, "product"};
      return {};
    }
    if (ctx == Ctx::kProduct) {
      Review& r = *current();
      if (k == "title") return {Kind::kString, &r.record.title, nullptr, "title"};
      if (k == "main_category") return {Kind::kString, &r.main_category, nullptr, "main_category"};
    }
    return {};
  }

  // True when a scalar value should be looked at (it belongs to a context we read).
  bool scalar(JsonType type) {
    if (stack_.empty()) root_type(type);
    const Ctx ctx = stack_.back();
    if (ctx == Ctx::kHistory) guarded([&] { wrong(type); });
    return ctx != Ctx::kSkip;
  }
  [[noreturn]] static void root_type(JsonType type) {
    throw DataError(detail::concat("expected a JSON object, got ", json::type_name(type)));
  }
  [[noreturn]] void wrong(JsonType got) {
    const char* expected = "a string";
    switch (target_.kind) {
      case Kind::kRating:
        expected = "a number";
        break;
      case Kind::kTimestamp:
        expected = "an integer";
        break;
      case Kind::kHistory:
        expected = "an array";
        break;
      case Kind::kReview:
      case Kind::kProduct:
        expected = "an object";
        break;
      default:
        break;
    }
    if (stack_.back() == Ctx::kHistory) {
      throw DataError(
          detail::concat("'history' items must be objects, got ", json::type_name(got)));
    }
    json::throw_wrong_type(target_.name, expected, got);
  }
  // Prefixes errors inside a review with where the review is ("history[2]: ...").
  template <class F>
  void guarded(F&& f) {
    try {
      f();
    } catch (const DataError& e) {
      if (in_history() && stack_.size() > 2) {
        throw DataError(detail::concat("history[", history_size_ - 1, "]: ", e.what()));
      }
      if (stack_.size() > 1 && stack_[1] == Ctx::kReview) {
        throw DataError(detail::concat("heldout: ", e.what()));
      }
      throw;
    }
  }

  std::vector<Ctx> stack_;
  Target target_;
};

void finish_review(Review& r, const std::string& user, const std::string& category,
                   std::string_view where, Record& out) {
  if (r.record.item.empty()) r.record.item.swap(r.asin);
  SELLER_THROW_IF_NOT(!r.record.item.empty(), DataError, where, "missing or empty 'parent_asin'");
  if (!r.has_full) r.record.review.swap(r.excerpt);
  r.record.user = user;
  if (r.main_category.empty()) {
    r.record.category = category;
  } else {
    r.record.category.swap(r.main_category);
  }
  std::swap(out, r.record);
}

}  // namespace

bool parse_amazon2023_line(std::string_view line, std::vector<Record>& out) {
  thread_local Amazon2023Sax handler;
  out.clear();
  if (is_blank(line)) return false;
  handler.reset();
  json::sax_parse_text(line, handler);
  SELLER_THROW_IF_NOT(!handler.user_.empty(), DataError, "missing or empty 'user_id'");
  if (!handler.has_history_ && !handler.has_heldout_) {
    out.resize(1);
    handler.plain_.has_full = true;  // the plain shape has `text` only
    finish_review(handler.plain_, handler.user_, handler.category_, "", out[0]);
    return true;
  }
  SELLER_THROW_IF_NOT(handler.history_size_ + (handler.has_heldout_ ? 1 : 0) > 0, DataError,
                      "no reviews in 'history' or 'heldout'");
  out.resize(handler.history_size_ + (handler.has_heldout_ ? 1 : 0));
  for (size_t i = 0; i < handler.history_size_; ++i) {
    finish_review(handler.history_[i], handler.user_, handler.category_,
                  detail::concat("history[", i, "]: "), out[i]);
  }
  if (handler.has_heldout_) {
    finish_review(handler.heldout_, handler.user_, handler.category_, "heldout: ", out.back());
  }
  return true;
}

ReadStats read_amazon2023(const std::filesystem::path& input, const ReadOptions& options,
                          const RecordSink& sink) {
  std::vector<std::filesystem::path> files;
  if (std::filesystem::is_directory(input)) {
    for (const char* split : {"training", "validation", "test"}) {
      for (const char* ext : {".jsonl", ".jsonl.gz"}) {
        auto candidate = input / (std::string(split) + ext);
        if (std::filesystem::is_regular_file(candidate)) files.push_back(candidate);
      }
    }
    if (files.empty()) {
      files = list_input_files(
          input,
          [](const std::string& name) {
            return name.ends_with(".jsonl") || name.ends_with(".jsonl.gz");
          },
          "training/validation/test.jsonl, or *.jsonl / *.jsonl.gz");
    }
  } else {
    files.push_back(input);
  }
  ReadStats stats;
  std::vector<Record> records;
  for (const auto& file : files) {
    for_each_line(
        file, options, stats,
        [&](std::string_view line) { return parse_amazon2023_line(line, records); },
        [&](const SourcePosition& position) {
          for (const Record& record : records) {
            ++stats.records;
            sink(record, position);
          }
        });
  }
  require_records(input, stats);
  return stats;
}

}  // namespace seller::data
