// The `ferry` executable; everything else lives in ferry_core.
#include "compiler/cli/cli.h"

auto main(int argc, char** argv) -> int { return ferry::cli::Run(argc, argv); }
