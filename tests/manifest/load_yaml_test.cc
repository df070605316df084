#include "compiler/manifest/load_yaml.h"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

// Prints expected and actual diagnostics one per line when a check fails.
template <>
struct doctest::StringMaker<std::vector<std::string>> {
  static auto convert(const std::vector<std::string>& lines) -> doctest::String {
    std::string out = "{";
    for (const std::string& line : lines) out += "\n  " + line;
    return (out + "\n}").c_str();
  }
};

namespace ferry::manifest {
namespace {

/// Each diagnostic as "line:column[-end] code path: message", in the order
/// reported, with its notes as "  note line:column: message".
auto Render(const diag::Sink& sink) -> std::vector<std::string> {
  std::vector<std::string> out;
  for (const diag::Diagnostic& d : sink.diagnostics()) {
    CHECK(d.location.file == "ferry.yaml");
    std::string line = std::to_string(d.location.line) + ":" + std::to_string(d.location.column);
    if (d.location.end_column != 0) line += "-" + std::to_string(d.location.end_column);
    out.push_back(line + " " + std::string(diag::Info(d.code).code) + " " + d.path + ": " +
                  d.message);
    for (const diag::Note& note : d.notes) {
      out.push_back("  note " + std::to_string(note.location.line) + ":" +
                    std::to_string(note.location.column) + ": " + note.message);
    }
  }
  return out;
}

/// Loads `yaml` and returns its diagnostics; `loaded` says whether a tree came back.
auto Errors(std::string_view yaml, bool* loaded = nullptr, const LoadLimits& limits = {})
    -> std::vector<std::string> {
  diag::Sink sink;
  std::optional<Document> document = LoadYaml("ferry.yaml", yaml, sink, limits);
  if (loaded != nullptr) *loaded = document.has_value();
  if (!document) CHECK(sink.HasErrors());
  return Render(sink);
}

/// Loads `yaml`, which must load without any diagnostic.
auto Load(std::string_view yaml) -> Document {
  diag::Sink sink;
  std::optional<Document> document = LoadYaml("ferry.yaml", yaml, sink);
  CHECK(Render(sink) == std::vector<std::string>{});
  REQUIRE(document.has_value());
  REQUIRE(document->root() != nullptr);
  return std::move(*document);
}

/// "line:column" of a node, plus "-end" when the loader knows where it ends.
auto Where(const Document& document, const Node* node) -> std::string {
  REQUIRE(node != nullptr);
  diag::Location location = document.LocationOf(node);
  std::string out = std::to_string(location.line) + ":" + std::to_string(location.column);
  if (location.end_column != 0) out += "-" + std::to_string(location.end_column);
  return out;
}

auto KindOf(std::string_view yaml_value) -> NodeKind {
  Document document = Load("v: " + std::string(yaml_value) + "\n");
  const Node* value = document.root()->Find("v");
  REQUIRE(value != nullptr);
  return value->kind;
}

TEST_CASE("block and flow nodes keep their positions") {
  Document document = Load(
      "ferry: 1\n"
      "endpoints:\n"
      "  faq:\n"
      "    versions:\n"
      "      - name: a\n"
      "        traffic: [10, 90]\n"
      "      - {name: \"b\", tags: {k: v}}\n"
      "    note: |\n"
      "      two\n"
      "      lines\n");
  const Node* root = document.root();
  CHECK(root->kind == NodeKind::Mapping);
  CHECK(Where(document, root) == "1:1");
  CHECK(Where(document, root->FindKey("ferry")) == "1:1-6");
  CHECK(Where(document, root->Find("ferry")) == "1:8-9");
  const Node* faq = root->Find("endpoints")->Find("faq");
  CHECK(Where(document, faq) == "4:5");
  const Node* versions = faq->Find("versions");
  REQUIRE(versions->kind == NodeKind::Sequence);
  REQUIRE(versions->items.size() == 2);
  CHECK(Where(document, versions) == "5:7");
  CHECK(Where(document, versions->items[0]) == "5:9");
  const Node* traffic = versions->items[0]->Find("traffic");
  CHECK(Where(document, traffic) == "6:18");
  CHECK(Where(document, traffic->items[1]) == "6:23-25");
  const Node* flow = versions->items[1];
  CHECK(Where(document, flow) == "7:9");
  // Quoted scalars on one line span their quotes.
  CHECK(Where(document, flow->Find("name")) == "7:16-19");
  CHECK(flow->Find("name")->text == "b");
  CHECK(Where(document, flow->Find("tags")->Find("k")) == "7:31-32");
  const Node* note = faq->Find("note");
  CHECK(Where(document, note) == "8:11");
  CHECK(note->text == "two\nlines\n");
  CHECK(note->kind == NodeKind::String);
}

TEST_CASE("an empty value is placed at its key") {
  Document document = Load("a:\nb: 1\n");
  const Node* a = document.root()->Find("a");
  CHECK(a->kind == NodeKind::Null);
  CHECK(Where(document, a) == "1:1");
}

TEST_CASE("columns count bytes and skip nothing after a byte-order mark") {
  Document document = Load("\xEF\xBB\xBFk: \xC3\xA9t\xC3\xA9\nn: 1\n");
  CHECK(Where(document, document.root()->FindKey("k")) == "1:4-5");
  CHECK(Where(document, document.root()->Find("k")) == "1:7-12");
  CHECK(Where(document, document.root()->Find("n")) == "2:4-5");
}

TEST_CASE("plain scalars resolve with the YAML 1.2 core schema") {
  for (std::string_view text : {"~", "null", "Null", "NULL"}) {
    CAPTURE(text);
    CHECK(KindOf(text) == NodeKind::Null);
  }
  for (std::string_view text : {"true", "True", "TRUE", "false", "False", "FALSE"}) {
    CAPTURE(text);
    CHECK(KindOf(text) == NodeKind::Bool);
  }
  for (std::string_view text : {"0", "-12", "+7", "0o17", "0x1F"}) {
    CAPTURE(text);
    CHECK(KindOf(text) == NodeKind::Int);
  }
  for (std::string_view text :
       {"1.5", "-0.5", "1e3", ".5", "1.", ".inf", "-.Inf", ".nan", "2E-2"}) {
    CAPTURE(text);
    CHECK(KindOf(text) == NodeKind::Float);
  }
  // YAML 1.1 spellings are strings in 1.2, as are versions and quoted numbers.
  for (std::string_view text :
       {"yes", "no", "on", "1.16.13", "0o8", "0xG", "1e", "nUll", "\"1\"", "'true'", "abc"}) {
    CAPTURE(text);
    CHECK(KindOf(text) == NodeKind::String);
  }
}

TEST_CASE("explicit core tags are honoured") {
  CHECK(KindOf("!!str 1") == NodeKind::String);
  CHECK(KindOf("!!int \"12\"") == NodeKind::Int);
  CHECK(KindOf("!!float 1") == NodeKind::Float);
  CHECK(KindOf("!!bool \"true\"") == NodeKind::Bool);
  CHECK(KindOf("!!null \"\"") == NodeKind::Null);
  CHECK(KindOf("!!map {a: 1}") == NodeKind::Mapping);
}

TEST_CASE("numbers, booleans and kind names read back") {
  Document document = Load(
      "i: -42\nh: 0x10\no: 0o17\nbig: 99999999999999999999\nf: 2.5e1\nb: True\ns: text\n"
      "inf: -.inf\n");
  const Node* root = document.root();
  CHECK(root->Find("i")->AsInt() == -42);
  CHECK(root->Find("h")->AsInt() == 16);
  CHECK(root->Find("o")->AsInt() == 15);
  CHECK(root->Find("big")->AsInt() == std::numeric_limits<std::int64_t>::max());
  CHECK(root->Find("big")->AsDouble() == doctest::Approx(1e20));
  CHECK(root->Find("f")->AsDouble() == doctest::Approx(25.0));
  CHECK(root->Find("f")->AsInt() == 0);
  CHECK(root->Find("i")->AsDouble() == doctest::Approx(-42.0));
  CHECK(root->Find("inf")->AsDouble() == -std::numeric_limits<double>::infinity());
  CHECK(root->Find("b")->AsBool());
  CHECK(root->Find("i")->IsNumber());
  CHECK_FALSE(root->Find("s")->IsNumber());
  CHECK(root->Find("s")->KindName() == "a string");
  CHECK(root->KindName() == "a mapping");
  CHECK(root->Find("missing") == nullptr);
  CHECK(root->Find("s")->Find("s") == nullptr);
}

TEST_CASE("an alias shares the anchored node") {
  Document document = Load("base: &r {cpu: 1}\na: *r\nb: *r\n");
  const Node* base = document.root()->Find("base");
  CHECK(document.root()->Find("a") == base);
  CHECK(document.root()->Find("b") == base);
  CHECK(base->Find("cpu")->AsInt() == 1);
}

TEST_CASE("E0006: text that is not UTF-8 stops at the first bad byte") {
  bool loaded = true;
  CHECK(Errors("a: 1\nb: x\xFFy\xFE\n", &loaded) ==
        std::vector<std::string>{"2:5 E0006 : the manifest is not valid UTF-8 (byte 0xff here); "
                                 "save the file with UTF-8 encoding"});
  CHECK_FALSE(loaded);
  // An overlong encoding of '/' and a lone continuation byte are rejected too.
  CHECK(Errors("a: \xC0\xAF\n").size() == 1);
  CHECK(Errors("\x80").size() == 1);
}

TEST_CASE("a binary blob gives exactly one error") {
  std::string blob;
  for (int i = 0; i < 512; ++i) blob += static_cast<char>((i * 37 + 11) % 256);
  bool loaded = true;
  CHECK(Errors(blob, &loaded).size() == 1);
  CHECK_FALSE(loaded);
  CHECK(Errors(std::string("a: 1\0b", 6)) ==
        std::vector<std::string>{"1:5 E0002 : invalid YAML: the character U+0000 is not allowed "
                                 "in YAML; remove it, or write it as an escape in a "
                                 "double-quoted string"});
}

TEST_CASE("E0004: every line indented with a tab is reported") {
  bool loaded = true;
  CHECK(Errors("a:\n\tb: 1\n  \tc: 2\nd: \"tab\tinside\"\n", &loaded) ==
        std::vector<std::string>{
            "2:1 E0004 : a tab is used for indentation; YAML indents with spaces only, replace "
            "the tab with spaces",
            "3:3 E0004 : a tab is used for indentation; YAML indents with spaces only, replace "
            "the tab with spaces",
        });
  CHECK_FALSE(loaded);
  // yaml-cpp rejects a tab that starts a blank or comment line too.
  CHECK(Errors("a: 1\n\t\n \t# note\nb: 2\n") ==
        std::vector<std::string>{
            "2:1 E0004 : a tab is used for indentation; YAML indents with spaces only, replace "
            "the tab with spaces",
            "3:2 E0004 : a tab is used for indentation; YAML indents with spaces only, replace "
            "the tab with spaces",
        });
  // Tabs inside a block scalar's text are its text.
  Document document = Load("script: |\n  run\n  \tindented\nnext: 1\n");
  CHECK(document.root()->Find("script")->text == "run\n\tindented\n");
  // A tab the pre-check lets through is still E0004, from the parser.
  CHECK(Errors("a: |\n  x\n\t\nb: 2\n") ==
        std::vector<std::string>{
            "3:1 E0004 : a tab is used for indentation; YAML indents with spaces only, replace "
            "the tab with spaces"});
}

TEST_CASE("E0002: a syntax error is one error at its place") {
  CHECK(Errors("project: \"faq\nferry: 1\n") ==
        std::vector<std::string>{"1:10 E0002 project: invalid YAML: this quoted string is never "
                                 "closed; add the closing \" where the string should end"});
  CHECK(Errors("a: [1, 2\nb: 3\n") ==
        std::vector<std::string>{
            "1:4 E0002 a: invalid YAML: a '[' list is not closed; add the missing ']'"});
  CHECK(Errors("a: {k: [1]\n") ==
        std::vector<std::string>{
            "1:4 E0002 a: invalid YAML: a '{' mapping is not closed; add the missing '}'"});
  CHECK(Errors("a: {k: [1, {x: 2]\n") ==
        std::vector<std::string>{
            "1:17 E0002 a.k: invalid YAML: a ']' or '}' has no matching '[' or '{'; remove it"});
  CHECK(Errors("a:\n  b: 1\n c: 2\n") ==
        std::vector<std::string>{"3:2 E0002 : invalid YAML: end of map not found; check the "
                                 "indentation of this line, the keys of one mapping must line up"});
  CHECK(Errors("a: b: c\n") ==
        std::vector<std::string>{"1:5 E0002 : invalid YAML: unexpected ':'; quote a value that "
                                 "contains \": \", or check the indentation"});
  CHECK(Errors("a: *missing\n") ==
        std::vector<std::string>{"1:4 E0002 : invalid YAML: this alias names an anchor that is "
                                 "not defined; define it with &name before using *name"});
  CHECK(Errors("- a\nb: 1\n") ==
        std::vector<std::string>{"2:1 E0002 : invalid YAML: content after the end of the "
                                 "manifest's top-level node; check the indentation of this line"});
  CHECK(Errors("a: \"\\q\"\n") ==
        std::vector<std::string>{"1:7 E0002 : invalid YAML: unknown escape \\q in a double-quoted "
                                 "string; write \\\\ for a backslash, or use single quotes"});
}

TEST_CASE("E0003: duplicate keys are reported in every mapping, the first kept") {
  bool loaded = false;
  std::vector<std::string> errors = Errors(
      "endpoints:\n"
      "  faq:\n"
      "    cluster: a\n"
      "    cluster: b\n"
      "  faq: {}\n"
      "list:\n"
      "  - {k: 1, k: 2}\n",
      &loaded);
  CHECK(loaded);
  CHECK(errors == std::vector<std::string>{
                      "4:5-12 E0003 endpoints.faq.cluster: the key \"cluster\" appears twice in "
                      "this mapping; remove or rename one of them",
                      "  note 3:5: first defined here",
                      "5:3-6 E0003 endpoints.faq: the key \"faq\" appears twice in this mapping; "
                      "remove or rename one of them",
                      "  note 2:3: first defined here",
                      "7:12-13 E0003 list.0.k: the key \"k\" appears twice in this mapping; "
                      "remove or rename one of them",
                      "  note 7:6: first defined here",
                  });
  diag::Sink sink;
  std::optional<Document> document = LoadYaml("ferry.yaml", "a: 1\na: 2\n", sink);
  REQUIRE(document.has_value());
  CHECK(document->root()->entries.size() == 1);
  CHECK(document->root()->Find("a")->AsInt() == 1);
}

TEST_CASE("E0005: an alias inside its own anchor becomes null") {
  diag::Sink sink;
  std::optional<Document> document = LoadYaml("ferry.yaml", "a: &x [1, *x]\nb: &y {k: *y}\n", sink);
  CHECK(Render(sink) == std::vector<std::string>{
                            "1:11 E0005 a.1: the alias *x refers to the node that contains it, so "
                            "it would never end; point it at a node outside &x",
                            "2:11 E0005 b.k: the alias *y refers to the node that contains it, so "
                            "it would never end; point it at a node outside &y",
                        });
  REQUIRE(document.has_value());
  CHECK(document->root()->Find("a")->items[1]->kind == NodeKind::Null);
  CHECK(document->root()->Find("b")->Find("k")->kind == NodeKind::Null);
}

TEST_CASE("E0007: tags, complex keys and a second document") {
  bool loaded = false;
  CHECK(Errors("a: !custom x\nb: !!int x\nc: !!set {}\n", &loaded) ==
        std::vector<std::string>{
            "1:4 E0007 a: unsupported YAML tag !custom; ferry accepts only !!str, !!int, !!float, "
            "!!bool and !!null on values, remove the tag",
            "2:4 E0007 b: the value \"x\" does not match its tag !!int; fix the value or remove "
            "the tag",
            "3:4 E0007 c: unsupported YAML tag !!set on a mapping; remove the tag",
        });
  CHECK(loaded);
  CHECK(Errors("top:\n  ? [a, b]\n  : 1\n") ==
        std::vector<std::string>{"2:5 E0007 top: a mapping key must be a plain value, not a list; "
                                 "ferry does not accept complex keys"});
  CHECK(Errors("a: 1\n---\nb: 2\n", &loaded) ==
        std::vector<std::string>{"2:1 E0007 : a second YAML document starts here; ferry reads one "
                                 "document per manifest, remove this \"---\" and merge what "
                                 "follows into the first document"});
  CHECK(loaded);
}

TEST_CASE("E0008: billion laughs stops at the expanded size limit") {
  std::string yaml = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  std::string previous = "a";
  for (char name = 'b'; name <= 'j'; ++name) {
    yaml += std::string(1, name) + ": &" + name + " [";
    for (int i = 0; i < 10; ++i) yaml += (i == 0 ? "*" : ", *") + previous;
    yaml += "]\n";
    previous = std::string(1, name);
  }
  bool loaded = true;
  CHECK(Errors(yaml, &loaded) ==
        std::vector<std::string>{"6:36 E0008 f.7: aliases expand the manifest to more than "
                                 "1000000 nodes; use fewer aliases, or aliases of smaller nodes"});
  CHECK_FALSE(loaded);
  // The same limit counts plain nodes.
  CHECK(Errors("[1, 2, 3, 4]", nullptr, LoadLimits{.max_expanded_nodes = 3, .max_depth = 8}) ==
        std::vector<std::string>{"1:8 E0008 2: the manifest has more than 3 nodes; split it up"});
}

TEST_CASE("E0008: deep nesting stops before the parser recurses") {
  bool loaded = true;
  std::vector<std::string> errors = Errors(std::string(100000, '['), &loaded);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].find("E0008") != std::string::npos);
  CHECK(errors[0].find("nesting too deep: more than 256 levels") != std::string::npos);
  CHECK_FALSE(loaded);
  std::string block;
  for (std::size_t depth = 0; depth < 4; ++depth) block += std::string(depth * 2, ' ') + "k:\n";
  CHECK(Errors(block, nullptr, LoadLimits{.max_expanded_nodes = 100, .max_depth = 2}) ==
        std::vector<std::string>{"3:5 E0008 k.k: nesting too deep: more than 2 levels of "
                                 "mappings and lists; flatten the manifest"});
  // An alias counts the depth of what it expands to.
  CHECK(Errors("a: &a [[1]]\nb: [*a]\n", nullptr,
               LoadLimits{.max_expanded_nodes = 100, .max_depth = 3}) ==
        std::vector<std::string>{"2:5 E0008 b.0: nesting too deep: this alias expands to more "
                                 "than 3 levels of mappings and lists; flatten the manifest"});
}

TEST_CASE("E0009: an empty or comment-only file") {
  const std::vector<std::string> empty{
      "1:1 E0009 : the manifest is empty; write at least \"ferry: 1\" and \"project: <name>\""};
  CHECK(Errors("") == empty);
  CHECK(Errors("\n  \n# just a comment\n---\n") == empty);
}

}  // namespace
}  // namespace ferry::manifest
