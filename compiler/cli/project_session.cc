#include "compiler/cli/project_session.h"

#include <fmt/format.h>

#include <ostream>

namespace ferry::cli {

auto ExecutorOption(const ParsedArgs& parsed) -> plan::ExecutorKind {
  return parsed.Value("--executor", "local") == "kubernetes" ? plan::ExecutorKind::Kubernetes
                                                             : plan::ExecutorKind::Local;
}

auto OpenProjectSession(const std::string& manifest, plan::ExecutorKind executor,
                        const DiagnosticOutput& output, const Io& io)
    -> std::optional<ProjectSession> {
  ProjectSession session;
  session.manifest = manifest;
  session.executor = executor;
  session.paths = apply::PathsFor(manifest, executor);
  diag::Sink sink;
  session.run = driver::CompileAndRender(io.fs, manifest, sink);
  // Warnings are check's business; plan and apply show errors only, as text
  // on stderr: stdout is the plan (one JSON document with --format json).
  DiagnosticOutput errors_only = output;
  errors_only.quiet = true;
  errors_only.format = "text";
  PrintDiagnostics(sink, session.run.sources, errors_only, io);
  if (sink.HasErrors() || !session.run.project) return std::nullopt;
  session.desired = plan::DesiredResources(*session.run.project, session.run.result, executor);
  return session;
}

auto LoadState(const apply::StateStore& store, plan::State& state, const Io& io,
               std::string_view command) -> bool {
  bool exists = false;
  std::string error;
  if (!store.Load(state, exists, error)) {
    io.err << "ferry " << command << ": " << error << "\n";
    return false;
  }
  return true;
}

void TerminalProgress::ClearBar() {
  if (!bar_shown_) return;
  io_.err << "\r\x1b[2K";
  bar_shown_ = false;
}

void TerminalProgress::Line(std::string_view text) {
  ClearBar();
  io_.err << text << "\n" << std::flush;
}

void TerminalProgress::Fraction(std::string_view label, double fraction) {
  // Without a terminal a bar redrawn in place is noise in a log file.
  if (!io_.err_is_terminal) return;
  constexpr int kWidth = 30;
  const double clamped = fraction < 0 ? 0 : (fraction > 1 ? 1 : fraction);
  const int filled = static_cast<int>(clamped * kWidth + 0.5);
  io_.err << "\r\x1b[2K  [" << std::string(static_cast<std::size_t>(filled), '#')
          << std::string(static_cast<std::size_t>(kWidth - filled), ' ') << "] "
          << fmt::format("{:3.0f}%", clamped * 100) << " " << label << std::flush;
  bar_shown_ = true;
}

}  // namespace ferry::cli
