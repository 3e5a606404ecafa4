// Reader of an XRec dataset folder (shared/data/xrec-test/<amazon|google|yelp>). Decisions:
//   - interactions come from total_trn.csv, total_val.csv, total_tst.csv, those that exist, in
//     that order (header `user,item` or `user,item,Time`; Time "MM D, YYYY" becomes UTC
//     midnight of that day in ms; without Time the timestamp is kNoTimestamp);
//   - tst.jsonl (uid, iid, title, item_summary, explanation) is loaded first into small maps:
//     every record of an item listed there gets title=title and description=item_summary (the
//     XRec item profile, GPT-generated); the record of each (uid, iid) pair of tst.jsonl gets
//     review=explanation (every CSV occurrence of the pair, if repeated);
//   - tst.jsonl pairs found in no CSV are emitted after the CSVs, in tst.jsonl order, without a
//     timestamp (XRec's amazon folder lacks total_trn.csv, so most of its 3,000 test pairs end
//     up here); user_summary is not used (a generated profile of the user, not data);
//   - users and items are XRec's integer ids written in canonical decimal ("007" -> "7").
// The input may also be one of those files alone (a .csv or the .jsonl).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string_view>

#include "trainer/data/readers/reader.h"
#include "trainer/data/record.h"

namespace seller::data {

// Parses XRec's "MM D, YYYY" date into ms since the epoch (UTC midnight); DataError if invalid.
int64_t parse_xrec_date(std::string_view text);

ReadStats read_xrec(const std::filesystem::path& input, const ReadOptions& options,
                    const RecordSink& sink);

}  // namespace seller::data
