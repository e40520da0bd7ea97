"""Command line: `python -m generator <stage>`; one subcommand per pipeline stage.

Exit status: 0 success, 1 data errors (or dead links for `check`), 2 usage error, 3 incomplete check.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from generator.errors import DataError, count_line

ROOT = Path.cwd()

# Stages implemented in their own modules: name -> (module, help). Each module offers
# add_arguments(parser) and run(args) -> int.
STAGES: dict[str, tuple[str, str]] = {
    "validate": ("generator.cli_basic", "validate data/ and print every problem as path:line:col"),
    "build": ("generator.cli_basic", "validate, then render the Markdown pages and catalog.json into docs/"),
    "schema": ("generator.cli_basic", "write the JSON Schema of each data kind into schemas/"),
    "clean": ("generator.cli_basic", "remove the generated pages from docs/"),
    "serve": ("generator.serve", "preview the site; edits in data/ or templates re-render without a restart"),
    "check": (
        "generator.check",
        "check every link against the Hugging Face Hub; refresh data/hub-snapshot.json",
    ),
    "add": ("generator.add", "write a new LoRA data file from a Hugging Face file URL"),
    "link-issue": ("generator.rolling_issue", "create, update or close the one rolling link-check issue"),
}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every available stage."""
    parser = argparse.ArgumentParser(prog="python -m generator", description=__doc__)
    parser.add_argument("--root", type=Path, default=ROOT, help="project folder (default: current folder)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module_name, help_text) in STAGES.items():
        module = _module(module_name)
        stage = sub.add_parser(name, help=help_text, description=help_text)
        adder = getattr(module, f"add_{name.replace('-', '_')}_arguments", None) or module.add_arguments
        adder(stage)
        stage.set_defaults(module=module, stage=name)
    return parser


def _module(name: str) -> ModuleType:
    return importlib.import_module(name)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one stage; data problems are printed, never raised as tracebacks."""
    args = build_parser().parse_args(argv)
    runner = getattr(args.module, f"run_{args.stage.replace('-', '_')}", None) or args.module.run
    try:
        return int(runner(args))
    except DataError as err:
        fmt = getattr(args, "format", "text")
        for problem in err.problems:
            print(problem.github() if fmt == "github" else str(problem))
        print(count_line(len(err.problems)))
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception:  # a bug, not bad input: show it, but never exit 1 (which `check` uses for dead links)
        traceback.print_exc()
        print(f"{args.stage}: internal error; please report it with the lines above", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
