"""Command line: ``python -m generator <stage>``, one subcommand per pipeline stage.

The stages are an explicit table. Each names the function that runs it as ``module:function`` and is
imported only when it runs, so ``validate`` and ``build`` never load the network edge (huggingface_hub,
httpx2, requests, tqdm). Exit statuses are :class:`~generator.errors.ExitCode`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import sys
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from generator.errors import EXIT_CODE_HELP, DataError, ExitCode, file_error, print_problems

Arguments = Callable[[argparse.ArgumentParser], None]


def _no_arguments(parser: argparse.ArgumentParser) -> None:
    """The stage has no options."""


def _format_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format",
        choices=("text", "github"),
        default="text",
        help="'github' prints ::error annotations for GitHub Actions",
    )


def _build_arguments(parser: argparse.ArgumentParser) -> None:
    _format_argument(parser)
    parser.add_argument("--docs", type=Path, default=None, help="output folder (default: ROOT/docs)")


def _schema_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=None, help="output folder (default: ROOT/schemas)")


def _serve_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dev-addr", default="127.0.0.1:8000", help="address for mkdocs serve")


def _check_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the JSON report to PATH")
    parser.add_argument("--report", type=Path, metavar="PATH", help="also write the Markdown report to PATH")
    parser.add_argument(
        "--changed-since",
        metavar="GIT_REF",
        help="check only the entries whose data files changed since GIT_REF",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="check and report, but do not write the snapshot"
    )
    parser.add_argument(
        "--hub-only",
        action="store_true",
        help="check only Hugging Face links (leave other https links as they are)",
    )
    parser.add_argument("--workers", type=int, default=4, help="concurrent requests (default: 4)")
    parser.add_argument("--attempts", type=int, default=5, help="attempts per request before 'unverified'")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per request (default: 30)")
    parser.add_argument(
        "--deadline",
        type=float,
        default=30.0,
        metavar="MINUTES",
        help="time limit of the whole run; links not checked by then are unverified (default: 30)",
    )


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "url", help="https://huggingface.co/OWNER/REPO/blob/main/PATH.safetensors (or …/resolve/…)"
    )
    parser.add_argument(
        "--date", type=dt.date.fromisoformat, default=None, help="the 'added' date (default: today)"
    )
    parser.add_argument(
        "--id", dest="entry_id", default=None, help="id of the entry (default: from the file name)"
    )
    parser.add_argument(
        "--mirror-of",
        dest="mirror_of",
        metavar="ID",
        default=None,
        help="list the file as a mirror of the LoRA ID (the same file, published elsewhere)",
    )


def _import_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--date",
        type=dt.date.fromisoformat,
        default=None,
        help="the 'added' date of new entries (default: today)",
    )
    parser.add_argument(
        "--allow-removals",
        action="store_true",
        help="remove the recipes whose templates a new package version dropped (refused otherwise)",
    )


def _link_issue_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--report", type=Path, required=True, help="Markdown report written by `check`")
    parser.add_argument("--exit-code", type=int, required=True, help="exit status of `check` (0, 1 or 3)")
    parser.add_argument("--repo", help="OWNER/NAME (default: $GITHUB_REPOSITORY, else gh's own choice)")
    parser.add_argument(
        "--dry-run", action="store_true", help="print the gh commands instead of running them"
    )
    parser.add_argument(
        "--issues-json", type=Path, help="read the open issues from this JSON file instead of `gh issue list`"
    )


def _snapshot_pr_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--changed",
        choices=("true", "false"),
        required=True,
        help="whether `check` changed data/hub-snapshot.json (the new file is already in place when true)",
    )
    parser.add_argument("--exit-code", type=int, required=True, help="exit status of `check` (0, 1 or 3)")
    parser.add_argument(
        "--branch", required=True, help="this run's fresh branch: link-check/hub-snapshot-RUN_ID-ATTEMPT"
    )
    parser.add_argument("--base", required=True, help="branch the pull request targets (the run's branch)")
    parser.add_argument("--repo", help="OWNER/NAME (default: $GITHUB_REPOSITORY, else gh's own choice)")
    parser.add_argument(
        "--app-token", action="store_true", help="GH_TOKEN is a GitHub App's, so its pull requests run CI"
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="print the git and gh commands instead of running them"
    )
    parser.add_argument(
        "--pulls-json", type=Path, help="read the open pull requests from this JSON file instead of gh"
    )
    parser.add_argument(
        "--branches-json", type=Path, help="read the link-check/ branch refs from this file instead of gh"
    )


@dataclass(frozen=True)
class Stage:
    """One subcommand: its help, its options, and the function that runs it (imported when it runs)."""

    name: str
    help: str
    runner: str
    arguments: Arguments = _no_arguments

    def run(self, args: argparse.Namespace) -> int:
        """Import the stage's module and run it."""
        module_name, function = self.runner.split(":")
        runner: Callable[[argparse.Namespace], int] = getattr(importlib.import_module(module_name), function)
        return int(runner(args))


STAGES: tuple[Stage, ...] = (
    Stage(
        "validate",
        "validate data/ and print every problem as path:line:col",
        "generator.catalog.validate:run",
        _format_argument,
    ),
    Stage(
        "build",
        "validate, then render the Markdown pages and catalog.json into docs/",
        "generator.site.build:run",
        _build_arguments,
    ),
    Stage(
        "schema",
        "write the JSON Schema of each data kind into schemas/",
        "generator.catalog.schema:run",
        _schema_arguments,
    ),
    Stage("clean", "remove the generated pages from docs/", "generator.site.build:run_clean"),
    Stage(
        "serve",
        "preview the site; edits in data/ or templates re-render without a restart",
        "generator.site.serve:run",
        _serve_arguments,
    ),
    Stage(
        "check",
        "check every link against the Hugging Face Hub; refresh data/hub-snapshot.json",
        "generator.hub.check:run",
        _check_arguments,
    ),
    Stage(
        "add",
        "write a new LoRA data file from a Hugging Face file URL",
        "generator.hub.add:run",
        _add_arguments,
    ),
    Stage(
        "import-templates",
        "write data/recipes/ (and missing LoRAs) from ComfyUI's official workflow templates package",
        "generator.recipes.importer:run",
        _import_arguments,
    ),
    Stage(
        "link-issue",
        "create, update or close the one rolling link-check issue",
        "generator.github.rolling_issue:run",
        _link_issue_arguments,
    ),
    Stage(
        "snapshot-pr",
        "open the refreshed snapshot as a pull request from a fresh branch; close superseded ones",
        "generator.github.snapshot_pr:run",
        _snapshot_pr_arguments,
    ),
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every stage (no stage module is imported)."""
    epilog = "exit status:\n" + "\n".join(f"  {int(code):<4} {text}" for code, text in EXIT_CODE_HELP.items())
    parser = argparse.ArgumentParser(
        prog="python -m generator",
        description=__doc__.split("\n\n")[0],
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--root", type=Path, default=Path.cwd(), help="project folder (default: current folder)"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for stage in STAGES:
        stage_parser = sub.add_parser(stage.name, help=stage.help, description=stage.help)
        stage.arguments(stage_parser)
        stage_parser.set_defaults(stage=stage)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one stage; data problems are printed, never raised as tracebacks."""
    args = build_parser().parse_args(argv)
    stage: Stage = args.stage
    try:
        return stage.run(args)
    except DataError as err:
        print_problems(err, fmt=getattr(args, "format", "text"))
        return ExitCode.PROBLEMS
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return ExitCode.INTERRUPTED
    except OSError as err:  # the disk, not the code: name the file and the cause, never "internal error"
        print(f"{stage.name}: {file_error(err)}", file=sys.stderr)
        return ExitCode.FILE_ERROR
    except Exception:  # a bug, not bad input: show it, but never exit 1 (which `check` uses for dead links)
        traceback.print_exc()
        print(f"{stage.name}: internal error; please report it with the lines above", file=sys.stderr)
        return ExitCode.USAGE
