// manifest.json to and from the Manifest struct, with every structural check (manifest.h).
#include "checkpoints/manifest.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

#include "trainer/core/error.h"

namespace seller::ckpt {
namespace {

int64_t product(const std::vector<int64_t>& s) {
  int64_t n = 1;
  for (auto d : s) n *= d;
  return n;
}

template <class T>
T get(const nlohmann::json& j, const char* key, const std::string& source, const std::string& at) {
  SELLER_THROW_IF_NOT(j.is_object() && j.contains(key), FormatError, source, ": ", at,
                      " has no field '", key, "'");
  try {
    return j.at(key).get<T>();
  } catch (const nlohmann::json::exception&) {
    throw FormatError(
        detail::concat(source, ": ", at, ".", key, " has the wrong type: ", j.at(key).dump()));
  }
}

}  // namespace

std::string Layout::describe() const { return detail::concat("dp=", dp, ",tp=", tp, ",ep=", ep); }

Layout parse_layout(std::string_view spec) {
  Layout l;
  std::string text(spec);
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    const auto eq = item.find('=');
    SELLER_THROW_IF_NOT(eq != std::string::npos, ConfigError, "layout '", text,
                        "': expected key=value items such as dp=4,tp=2,ep=1");
    const auto key = item.substr(0, eq), value = item.substr(eq + 1);
    int64_t v = 0;
    const auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
    SELLER_THROW_IF_NOT(ec == std::errc() && p == value.data() + value.size() && v >= 1,
                        ConfigError, "layout '", text, "': ", key, " = '", value,
                        "' must be an integer >= 1");
    if (key == "dp")
      l.dp = v;
    else if (key == "tp")
      l.tp = v;
    else if (key == "ep")
      l.ep = v;
    else
      throw ConfigError(
          detail::concat("layout '", text, "': unknown key '", key, "' (dp, tp or ep)"));
  }
  return l;
}

int64_t ChunkEntry::numel() const { return product(shape); }
int64_t TensorEntry::numel() const { return product(shape); }
uint64_t TensorEntry::nbytes() const {
  return static_cast<uint64_t>(numel()) * io::dtype_size(dtype);
}

const TensorEntry* Manifest::find(std::string_view name) const {
  const auto it =
      std::lower_bound(tensors.begin(), tensors.end(), name,
                       [](const TensorEntry& t, std::string_view n) { return t.name < n; });
  return it != tensors.end() && it->name == name ? &*it : nullptr;
}

uint64_t Manifest::total_bytes() const {
  uint64_t n = 0;
  for (const auto& f : files) n += f.bytes;
  return n;
}

nlohmann::json Manifest::to_json() const {
  nlohmann::json j;
  j["format"] = "seller-checkpoint";
  j["version"] = version;
  j["step"] = step;
  j["created"] = created;
  j["layout"] = {
      {"dp", layout.dp}, {"tp", layout.tp}, {"ep", layout.ep}, {"world", layout.world()}};
  j["config_hash"] = config_hash;
  j["files"] = nlohmann::json::array();
  for (const auto& f : files)
    j["files"].push_back({{"name", f.name}, {"rank", f.rank}, {"bytes", f.bytes}});
  j["tensors"] = nlohmann::json::object();
  for (const auto& t : tensors) {
    nlohmann::json c = nlohmann::json::array();
    for (const auto& ch : t.chunks)
      c.push_back({{"file", ch.file},
                   {"offset", ch.offset},
                   {"shape", ch.shape},
                   {"crc32", ch.crc32},
                   {"bytes", ch.bytes}});
    j["tensors"][t.name] = {{"dtype", io::dtype_name(t.dtype)}, {"shape", t.shape}, {"chunks", c}};
  }
  j["train_state"] = train_state;
  j["config_yaml"] = config_yaml;  // last: long, and people read the head of the file
  return j;
}

std::string check_tiling(const std::vector<int64_t>& shape, const std::vector<ChunkEntry>& chunks) {
  int64_t volume = 0;
  for (const auto& c : chunks) {
    if (c.offset.size() != shape.size() || c.shape.size() != shape.size())
      return detail::concat("a chunk in ", c.file, " has rank ", c.shape.size(),
                            " but the tensor has rank ", shape.size());
    for (size_t d = 0; d < shape.size(); ++d)
      if (c.offset[d] < 0 || c.shape[d] < 0 || c.offset[d] + c.shape[d] > shape[d])
        return detail::concat("the chunk in ", c.file, " lies outside the global shape in dim ", d);
    volume += c.numel();
  }
  if (volume != product(shape))
    return detail::concat("the chunks cover ", volume, " of ", product(shape), " elements");
  for (size_t a = 0; a < chunks.size(); ++a)
    for (size_t b = a + 1; b < chunks.size(); ++b) {
      bool overlap = chunks[a].numel() > 0 && chunks[b].numel() > 0;
      for (size_t d = 0; overlap && d < shape.size(); ++d)
        overlap = chunks[a].offset[d] < chunks[b].offset[d] + chunks[b].shape[d] &&
                  chunks[b].offset[d] < chunks[a].offset[d] + chunks[a].shape[d];
      if (overlap)
        return detail::concat("the chunks in ", chunks[a].file, " and ", chunks[b].file,
                              " overlap");
    }
  return {};
}

Manifest parse_manifest(const nlohmann::json& j, const std::string& source) {
  SELLER_THROW_IF_NOT(j.is_object(), FormatError, source, ": not a JSON object");
  SELLER_THROW_IF_NOT(j.value("format", "") == "seller-checkpoint", FormatError, source,
                      ": not a seller checkpoint manifest (format = ", j.value("format", "?"), ")");
  Manifest m;
  m.version = get<int64_t>(j, "version", source, "manifest");
  SELLER_THROW_IF_NOT(m.version >= 1 && m.version <= kManifestVersion, FormatError, source,
                      ": manifest version ", m.version,
                      " is not supported (this seller reads up to ", kManifestVersion, ")");
  m.step = get<int64_t>(j, "step", source, "manifest");
  m.created = j.value("created", "");
  m.config_yaml = get<std::string>(j, "config_yaml", source, "manifest");
  m.config_hash = get<std::string>(j, "config_hash", source, "manifest");
  const auto& l = j.at("layout");
  m.layout = {get<int64_t>(l, "dp", source, "layout"), get<int64_t>(l, "tp", source, "layout"),
              get<int64_t>(l, "ep", source, "layout")};
  SELLER_THROW_IF_NOT(m.layout.dp >= 1 && m.layout.tp >= 1 && m.layout.ep >= 1 &&
                          get<int64_t>(l, "world", source, "layout") == m.layout.world(),
                      FormatError, source, ": layout ", l.dump(), " is inconsistent");
  std::set<std::string> file_names;
  for (const auto& f : j.at("files")) {
    FileEntry e{get<std::string>(f, "name", source, "files[]"),
                get<int64_t>(f, "rank", source, "files[]"),
                get<uint64_t>(f, "bytes", source, "files[]")};
    SELLER_THROW_IF_NOT(
        e.name.find('/') == std::string::npos && e.name.find("..") == std::string::npos,
        FormatError, source, ": file name '", e.name, "' must be a plain name");
    SELLER_THROW_IF_NOT(file_names.insert(e.name).second, FormatError, source, ": file '", e.name,
                        "' is listed twice");
    m.files.push_back(std::move(e));
  }
  for (const auto& [name, t] : j.at("tensors").items()) {
    const std::string at = "tensor '" + name + "'";
    TensorEntry e;
    e.name = name;
    const auto dt = io::parse_dtype(get<std::string>(t, "dtype", source, at));
    SELLER_THROW_IF_NOT(dt.has_value(), FormatError, source, ": ", at, " has an unknown dtype");
    e.dtype = *dt;
    e.shape = get<std::vector<int64_t>>(t, "shape", source, at);
    for (auto d : e.shape)
      SELLER_THROW_IF_NOT(d >= 0, FormatError, source, ": ", at, " has a negative dim");
    std::set<std::string> files_of_tensor;
    for (const auto& c : t.at("chunks")) {
      ChunkEntry ch{get<std::string>(c, "file", source, at),
                    get<std::vector<int64_t>>(c, "offset", source, at),
                    get<std::vector<int64_t>>(c, "shape", source, at),
                    get<uint32_t>(c, "crc32", source, at), get<uint64_t>(c, "bytes", source, at)};
      SELLER_THROW_IF_NOT(file_names.count(ch.file), FormatError, source, ": ", at,
                          " has a chunk in unlisted file '", ch.file, "'");
      SELLER_THROW_IF_NOT(files_of_tensor.insert(ch.file).second, FormatError, source, ": ", at,
                          " has two chunks in ", ch.file);
      e.chunks.push_back(std::move(ch));
    }
    const auto problem = check_tiling(e.shape, e.chunks);
    SELLER_THROW_IF_NOT(problem.empty(), FormatError, source, ": ", at, ": ", problem);
    for (const auto& ch : e.chunks)
      SELLER_THROW_IF_NOT(ch.bytes == static_cast<uint64_t>(ch.numel()) * io::dtype_size(e.dtype),
                          FormatError, source, ": ", at, ": chunk in ", ch.file, " has ", ch.bytes,
                          " bytes for ", ch.numel(), " elements");
    m.tensors.push_back(std::move(e));
  }
  std::sort(m.tensors.begin(), m.tensors.end(),
            [](const TensorEntry& a, const TensorEntry& b) { return a.name < b.name; });
  m.train_state = j.value("train_state", nlohmann::json::object());
  return m;
}

Manifest read_manifest(const std::filesystem::path& dir) {
  const auto path = dir / kManifestName;
  std::ifstream in(path, std::ios::binary);
  SELLER_THROW_IF_NOT(in.good(), DataError, path.string(),
                      ": cannot open (no manifest: the save did not finish)");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw FormatError(detail::concat(path.string(), ": not valid JSON (", e.what(), ")"));
  }
  return parse_manifest(j, path.string());
}

std::string config_hash(std::string_view yaml) {
  uint64_t h = 1469598103934665603ULL;
  bool skipping = false;
  size_t pos = 0;
  while (pos < yaml.size()) {
    size_t end = yaml.find('\n', pos);
    if (end == std::string_view::npos) end = yaml.size();
    const auto line = yaml.substr(pos, end - pos);
    // A top-level key starts at column 0; the checkpoint section runs until the next one.
    if (!line.empty() && line[0] != ' ' && line[0] != '#')
      skipping = line.rfind("checkpoint:", 0) == 0 || line.rfind("run:", 0) == 0;
    if (!skipping)
      for (char c : yaml.substr(
               pos, end + 1 - pos > yaml.size() - pos ? yaml.size() - pos : end + 1 - pos)) {
        h ^= static_cast<unsigned char>(c);
        h *= 1099511628211ULL;
      }
    pos = end + 1;
  }
  char buf[40];
  std::snprintf(buf, sizeof buf, "fnv1a64:%016llx", static_cast<unsigned long long>(h));
  return buf;
}

}  // namespace seller::ckpt
