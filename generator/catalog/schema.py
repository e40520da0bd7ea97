"""Stage ``schema``: the JSON Schema of each kind of data file, for editors' completion and checks."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from pydantic import BaseModel

from generator.catalog import models as m
from generator.catalog.recipes import Recipe
from generator.catalog.validate import ENTRY_FOLDERS, OPTIONAL_FILES, SINGLE_FILES
from generator.files import write_atomic

SCHEMA_NAMES: dict[str, type[BaseModel]] = {
    "lora": m.Lora,
    "model": m.BaseModelEntry,
    "combination": m.Combination,
    "special-use": m.SpecialUse,
    "site": m.Site,
    "trivia": m.Trivia,
    "merging": m.MergingNotes,
    "rcm": m.RcmNote,
    "recipe": Recipe,
    "dismissed": m.Dismissals,
    "release": m.Release,
}
assert set(SCHEMA_NAMES.values()) == {
    *ENTRY_FOLDERS.values(),
    *SINGLE_FILES.values(),
    *OPTIONAL_FILES.values(),
}


def schema_texts() -> dict[str, str]:
    """The JSON Schema of each data kind, as canonical JSON text."""
    return {
        f"{name}.schema.json": json.dumps(model.model_json_schema(), indent=2, sort_keys=True) + "\n"
        for name, model in SCHEMA_NAMES.items()
    }


def run(args: argparse.Namespace) -> int:
    """Write schemas/<kind>.schema.json, referenced by the data files' yaml-language-server modeline."""
    out: Path = args.out or args.root / "schemas"
    for name, text in schema_texts().items():
        write_atomic(out / name, text)
    print(f"wrote {len(SCHEMA_NAMES)} schemas into {out}")
    return 0
