// The transport-independent parts of http.h: header lookup, error bodies and
// reason phrases. The listening server is http_server.cc.
#include "runtime/serve/http.h"

#include <cctype>

#include "runtime/json.h"

namespace ferry_rt::serve::http {

auto HeaderNameEquals(std::string_view a, std::string_view b) -> bool {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

auto Request::Header(std::string_view name) const -> std::optional<std::string_view> {
  for (const auto& [key, value] : headers) {
    if (HeaderNameEquals(key, name)) return std::string_view(value);
  }
  return std::nullopt;
}

auto Request::Path() const -> std::string_view {
  std::string_view path = target;
  return path.substr(0, path.find('?'));
}

auto ErrorBody(std::string_view code, std::string_view message) -> std::string {
  return "{\"error\": {\"code\": " + json::Quote(code) + ", \"message\": " + json::Quote(message) +
         "}}\n";
}

void SetError(Response& response, int status, std::string_view code, std::string_view message) {
  response.status = status;
  response.content_type = "application/json";
  response.body = ErrorBody(code, message);
}

auto StatusText(int status) -> std::string_view {
  switch (status) {
    case 200:
      return "OK";
    case 204:
      return "No Content";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 411:
      return "Length Required";
    case 413:
      return "Content Too Large";
    case 415:
      return "Unsupported Media Type";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

}  // namespace ferry_rt::serve::http
