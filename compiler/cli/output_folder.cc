#include "compiler/cli/output_folder.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "compiler/support/sha256.h"

namespace ferry::cli {
namespace {

namespace fs = std::filesystem;

// The listing's own format version.
constexpr int kListingFormat = 1;

auto ReadBytes(const fs::path& path) -> std::optional<std::string> {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

auto WriteBytes(const fs::path& path, std::string_view bytes) -> bool {
  const fs::path temporary = path.string() + ".ferry-tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (!out) return false;
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out.flush()) return false;
  }
  std::error_code error;
  fs::rename(temporary, path, error);
  if (error) fs::remove(temporary, error);
  return !error;
}

// A path from a listing is only trusted inside OUT: relative, no "..".
auto IsSafeRelative(std::string_view path) -> bool {
  if (path.empty() || path.starts_with('/')) return false;
  const fs::path parsed(path);
  return std::none_of(parsed.begin(), parsed.end(),
                      [](const fs::path& part) { return part == ".." || part == "."; });
}

auto ListingJson(std::span<const render::RenderedFile> files) -> std::string {
  nlohmann::json listed = nlohmann::json::array();
  for (const render::RenderedFile& file : files) {
    listed.push_back({{"path", file.path}, {"sha256", support::Sha256Hex(file.contents)}});
  }
  return nlohmann::json{{"ferry_render", kListingFormat}, {"files", std::move(listed)}}.dump(2) +
         "\n";
}

// The paths a listing names; nullopt when it is not one of ours.
auto ReadListing(const std::string& text) -> std::optional<std::vector<std::string>> {
  const nlohmann::json parsed = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_object() || parsed.value("ferry_render", 0) != kListingFormat ||
      !parsed.contains("files") || !parsed["files"].is_array()) {
    return std::nullopt;
  }
  std::vector<std::string> paths;
  for (const nlohmann::json& entry : parsed["files"]) {
    if (!entry.is_object() || !entry.contains("path") || !entry["path"].is_string()) {
      return std::nullopt;
    }
    const std::string path = entry["path"].get<std::string>();
    if (!IsSafeRelative(path)) return std::nullopt;
    paths.push_back(path);
  }
  return paths;
}

}  // namespace

auto ListFiles(const std::string& folder) -> std::vector<std::string> {
  std::vector<std::string> files;
  std::error_code error;
  if (!fs::is_directory(folder, error)) return files;
  for (auto it = fs::recursive_directory_iterator(folder, error);
       !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
    if (it->is_regular_file(error)) {
      files.push_back(fs::relative(it->path(), folder, error).generic_string());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

auto WriteFiles(const std::string& folder, std::span<const render::RenderedFile> files,
                WriteOutcome& outcome) -> bool {
  for (const render::RenderedFile& file : files) {
    const fs::path path = fs::path(folder) / file.path;
    if (ReadBytes(path) == file.contents) {
      ++outcome.unchanged;
      continue;
    }
    std::error_code error;
    fs::create_directories(path.parent_path(), error);
    if (error || !WriteBytes(path, file.contents)) {
      outcome.error = fmt::format("cannot write '{}'", path.string());
      return false;
    }
    ++outcome.written;
  }
  return true;
}

auto RemoveFiles(const std::string& folder, std::span<const std::string> relative,
                 WriteOutcome& outcome) -> bool {
  fs::path root = fs::path(folder).lexically_normal();
  // "out/" and "out" are one folder: compare parents with the latter.
  if (!root.has_filename()) root = root.parent_path();
  for (const std::string& path : relative) {
    std::error_code error;
    fs::path full = root / path;
    if (!fs::remove(full, error)) {
      if (error) {
        outcome.error = fmt::format("cannot remove '{}': {}", full.string(), error.message());
        return false;
      }
      continue;
    }
    ++outcome.removed;
    // Folders the file leaves empty go too, up to (not including) the root.
    for (full = full.parent_path(); full.lexically_normal() != root && full.has_relative_path();
         full = full.parent_path()) {
      if (!fs::is_empty(full, error) || error || !fs::remove(full, error)) break;
    }
  }
  return true;
}

auto WriteRenderOutput(const std::string& out, std::span<const render::RenderedFile> files)
    -> WriteOutcome {
  WriteOutcome outcome;
  std::error_code error;
  if (fs::exists(out, error) && !fs::is_directory(out, error)) {
    outcome.error = fmt::format("'{}' exists and is not a folder", out);
    return outcome;
  }
  const fs::path listing_path = fs::path(out) / kRenderListing;
  std::vector<std::string> previous;
  if (const auto listing = ReadBytes(listing_path)) {
    const auto paths = ReadListing(*listing);
    if (!paths) {
      outcome.error = fmt::format(
          "'{}' is not a listing ferry render can read; delete the folder '{}' (or everything in "
          "it) and render again",
          listing_path.string(), out);
      return outcome;
    }
    previous = *paths;
  } else if (fs::is_directory(out, error) && !fs::is_empty(out, error)) {
    outcome.error = fmt::format(
        "'{}' is not empty and holds no {} from an earlier ferry render, so its files may not "
        "be ferry's to replace; empty it or choose another folder",
        out, kRenderListing);
    return outcome;
  }

  std::set<std::string, std::less<>> current;
  for (const render::RenderedFile& file : files) current.insert(file.path);
  std::vector<std::string> stale;
  for (const std::string& path : previous) {
    if (!current.contains(path)) stale.push_back(path);
  }
  fs::create_directories(out, error);
  // Listing the old and the new files first means an interrupted render
  // still knows every file it may have written, and the next one cleans up.
  std::vector<render::RenderedFile> both(files.begin(), files.end());
  for (const std::string& path : stale)
    both.push_back(render::RenderedFile{.path = path, .contents = {}});
  const render::RenderedFile interim{.path = std::string(kRenderListing),
                                     .contents = ListingJson(both)};
  const render::RenderedFile final_listing{.path = std::string(kRenderListing),
                                           .contents = ListingJson(files)};
  WriteOutcome ignored;
  if (!WriteFiles(out, std::span(&interim, 1), ignored) || !WriteFiles(out, files, outcome) ||
      !RemoveFiles(out, stale, outcome) ||
      !WriteFiles(out, std::span(&final_listing, 1), ignored)) {
    if (outcome.error.empty()) outcome.error = ignored.error;
  }
  return outcome;
}

}  // namespace ferry::cli
