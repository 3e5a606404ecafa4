// Error types of seller. Every error a user can cause (bad config, bad input file, corrupt shard)
// is thrown as seller::Error with a message that names the place: file and line, config key,
// offending value. The `seller` executable prints the message and exits with status 1; internal
// invariant violations use SELLER_CHECK and say "internal error".
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace seller {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A config value that is unknown, of the wrong type or impossible.
class ConfigError : public Error {
 public:
  using Error::Error;
};

// Input data that cannot be read or parsed (file, line and reason in the message).
class DataError : public Error {
 public:
  using Error::Error;
};

// A file of ours (shard, manifest, checkpoint) that fails its header or checksum checks.
class FormatError : public Error {
 public:
  using Error::Error;
};

namespace detail {
template <class... Args>
std::string concat(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}
}  // namespace detail

}  // namespace seller

// Throws ErrorType with the streamed message when cond is false.
#define SELLER_THROW_IF_NOT(cond, ErrorType, ...) \
  do {                                            \
    if (!(cond)) throw ErrorType(::seller::detail::concat(__VA_ARGS__)); \
  } while (0)

// Internal invariant: a failure is a bug in seller, not in the user's input.
#define SELLER_CHECK(cond, ...)                                                              \
  do {                                                                                       \
    if (!(cond))                                                                             \
      throw ::seller::Error(::seller::detail::concat("internal error at ", __FILE__, ":",    \
                                                     __LINE__, ": check '", #cond, "' failed " \
                                                     __VA_OPT__(, ) __VA_ARGS__));                         \
  } while (0)
