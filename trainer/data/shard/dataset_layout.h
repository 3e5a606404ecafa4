// Names shared by the dataset writer (prepare/dataset_writer.cpp) and reader (dataset.cpp).
//
// A prepared dataset folder:
//   manifest.json             format "seller-dataset", format_version, counts, stats, options,
//                             source, and every file with its header crc32 and size
//   users.sf    kind "users"  id_offsets u64[U+1], id_text u8 (original user ids),
//                             interaction_offsets u64[U+1] (global CSR offsets)
//   items.sf    kind "items"  {id,title,description,category}_{offsets u64[I+1], text u8}
//   interactions-NNNNN.sf     kind "interactions", users [first_user, first_user + num_users):
//                             user_range u64[2] = {first_user, first_interaction},
//                             user_offsets u64[num_users+1] (local, from 0),
//                             items u32, timestamps i64 (ms, kNoTimestamp = INT64_MIN when
//                             absent), ratings f32 (NaN when absent), split u8 (SplitTag),
//                             {review,summary,feature}_{offsets u64[n+1], text u8}
// Users and items are dense ids from 0 in order of first appearance in the cleaned, sorted data;
// each user's interactions are chronological (input order for equal or missing timestamps).
#pragma once

#include <cstdint>

namespace seller::data::layout {

inline constexpr const char* kManifestFile = "manifest.json";
inline constexpr const char* kManifestFormat = "seller-dataset";
inline constexpr uint32_t kManifestVersion = 1;
inline constexpr const char* kUsersFile = "users.sf";
inline constexpr const char* kItemsFile = "items.sf";
inline constexpr const char* kShardPrefix = "interactions-";
inline constexpr const char* kShardSuffix = ".sf";

inline constexpr const char* kUsersKind = "users";
inline constexpr const char* kItemsKind = "items";
inline constexpr const char* kInteractionsKind = "interactions";

inline constexpr const char* kItemTextFields[4] = {"id", "title", "description", "category"};
inline constexpr const char* kInteractionTextFields[3] = {"review", "summary", "feature"};

}  // namespace seller::data::layout
