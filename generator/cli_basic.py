"""The core stages of the command line: validate, build, schema, clean."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from pydantic import BaseModel

from generator import models as m
from generator.render import clean_pages, render_pages, write_pages
from generator.snapshot import load_snapshot, write_atomic
from generator.validate import ENTRY_FOLDERS, SINGLE_FILES, Catalog, load_catalog

SCHEMA_NAMES: dict[str, type[BaseModel]] = {
    "lora": m.Lora,
    "model": m.BaseModelEntry,
    "combination": m.Combination,
    "special-use": m.SpecialUse,
    "site": m.Site,
    "trivia": m.Trivia,
    "merging": m.MergingNotes,
    "rcm": m.RcmNote,
}
assert set(SCHEMA_NAMES.values()) == {*ENTRY_FOLDERS.values(), *SINGLE_FILES.values()}


def add_validate_arguments(parser: argparse.ArgumentParser) -> None:
    """--format text|github."""
    parser.add_argument(
        "--format",
        choices=("text", "github"),
        default="text",
        help="'github' prints ::error annotations for GitHub Actions",
    )


def run_validate(args: argparse.Namespace) -> int:
    """Validate data/; problems are raised as DataError and printed by the CLI."""
    catalog = _load(args.root)
    print(
        f"data/ is valid: {len(catalog.loras)} LoRAs, {len(catalog.models)} base models, "
        f"{len(catalog.combinations)} combinations, {len(catalog.special_use)} special-use links"
    )
    return 0


def add_build_arguments(parser: argparse.ArgumentParser) -> None:
    """--docs DIR."""
    add_validate_arguments(parser)
    parser.add_argument("--docs", type=Path, default=None, help="output folder (default: ROOT/docs)")


def run_build(args: argparse.Namespace) -> int:
    """Validate, then render every page into docs/ (nothing is written if validation fails)."""
    catalog = _load(args.root)
    snapshot = load_snapshot(args.root / "data" / "hub-snapshot.json", "data/hub-snapshot.json")
    pages = render_pages(catalog, snapshot)
    written = write_pages(args.docs or args.root / "docs", pages)
    print(f"rendered {len(pages)} files into docs/ ({len(written)} changed)")
    return 0


def add_schema_arguments(parser: argparse.ArgumentParser) -> None:
    """--out DIR."""
    parser.add_argument("--out", type=Path, default=None, help="output folder (default: ROOT/schemas)")


def schema_texts() -> dict[str, str]:
    """The JSON Schema of each data kind, as canonical JSON text."""
    return {
        f"{name}.schema.json": json.dumps(model.model_json_schema(), indent=2, sort_keys=True) + "\n"
        for name, model in SCHEMA_NAMES.items()
    }


def run_schema(args: argparse.Namespace) -> int:
    """Write schemas/<kind>.schema.json, referenced by the data files' yaml-language-server modeline."""
    out: Path = args.out or args.root / "schemas"
    for name, text in schema_texts().items():
        write_atomic(out / name, text)
    print(f"wrote {len(SCHEMA_NAMES)} schemas into {out}")
    return 0


def add_clean_arguments(parser: argparse.ArgumentParser) -> None:
    """No options."""


def run_clean(args: argparse.Namespace) -> int:
    """Delete the generated pages from docs/."""
    removed = list(clean_pages(args.root / "docs"))
    print(f"removed {len(removed)} generated files from docs/")
    return 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Unused: each stage of this module has its own add_<stage>_arguments."""


def _load(root: Path) -> Catalog:
    return load_catalog(root / "data", root)
