"""Add a mirror to a LoRA entry's file by editing its text: the curator's comments and field order stay.

``python -m generator add URL --mirror-of ID`` (or an ``add`` whose file has the sha256 of a catalogued one)
lists the new place under the entry's ``mirrors:``. The entry is a hand-written file, so it is not serialized
again: the lines of one new list item are inserted after the last item (or a new ``mirrors:`` block after the
``file:`` block), and the result must read back as the old data plus that one mirror and validate as a LoRA,
or nothing is written.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from generator.catalog import models as m
from generator.catalog.load import Document, read_document


class MirrorError(Exception):
    """The entry cannot take the mirror by a text edit (a flow-style list, a file that does not read back)."""


def with_mirror(entry: Path, display: str, repo: str, path: str) -> str:
    """The entry's text with the mirror ``repo``/``path`` added; MirrorError when that cannot be done safely."""
    doc, problems = read_document(entry, display)
    if doc is None or problems or not isinstance(doc.data, dict):
        raise MirrorError(f"{display} does not read as a valid entry: fix it first")
    text = entry.read_text(encoding="utf-8-sig")
    lines = text.splitlines(keepends=True)
    item = [f"- repo: {_scalar(repo)}\n", f"  path: {_scalar(path)}\n"]
    if "mirrors" in doc.data:
        at, indent = _after_last_mirror(doc, lines)
    else:
        at, indent = _block_end(doc, lines, "file"), ""
        item = ["mirrors:  # the same file, published again (the Hub check compares the sha256)\n", *item]
    if lines and not lines[-1].endswith("\n") and at >= len(lines):
        lines[-1] += "\n"
    new = "".join([*lines[:at], *(indent + line for line in item), *lines[at:]])
    _check(new, doc.data, repo, path, display)
    return new


def _scalar(value: str) -> str:
    """A YAML scalar for one line: plain when YAML reads it back as the same text, else double-quoted."""
    dumped = yaml.safe_dump(value, default_flow_style=True, width=100_000, allow_unicode=True)
    return dumped.removesuffix("\n...\n").removesuffix("\n")


def _top_keys(doc: Document) -> list[tuple[int, str]]:
    """(line, key) of each top-level key, in the file's order."""
    return sorted((pos[0], str(loc[0])) for loc, pos in doc.keys.items() if len(loc) == 1)


def _block_end(doc: Document, lines: list[str], key: str) -> int:
    """The index of the line after ``key``'s block: before the next top-level key, its comments and the blank
    lines before it (they belong to that key)."""
    keys = _top_keys(doc)
    start = next(line for line, name in keys if name == key)
    after = [line for line, _ in keys if line > start]
    end = (after[0] - 1) if after else len(lines)
    while end > 0 and (not lines[end - 1].strip() or lines[end - 1].lstrip().startswith("#")):
        end -= 1
    return end


def _after_last_mirror(doc: Document, lines: list[str]) -> tuple[int, str]:
    """Where a new item goes (after the last one) and the indentation of the list's dashes."""
    count = len(doc.data["mirrors"]) if isinstance(doc.data["mirrors"], list) else 0
    first = doc.values.get(("mirrors", 0))
    key_line = doc.keys[("mirrors",)][0]
    if not count or first is None or first[0] == key_line:
        raise MirrorError("its 'mirrors' is not a block list ('- repo: …' lines): add the mirror by hand")
    line = lines[first[0] - 1]
    dash = line.find("-")
    if dash < 0 or line[:dash].strip():
        raise MirrorError("its 'mirrors' list is written in a way this edit does not follow: add it by hand")
    return _block_end(doc, lines, "mirrors"), line[:dash]


def _check(text: str, old: dict[str, Any], repo: str, path: str, display: str) -> None:
    """The new text reads back as the old data plus the one mirror, and validates as a LoRA entry."""
    expected = {**old, "mirrors": [*(old.get("mirrors") or []), {"repo": repo, "path": path}]}
    with tempfile.TemporaryDirectory(prefix="lora-alchemy-mirror-") as folder:
        file = Path(folder) / "entry.yaml"
        file.write_text(text, encoding="utf-8")
        doc, problems = read_document(file, display)
    if doc is None or problems or doc.data != expected:
        raise MirrorError(f"adding the mirror to {display} would not read back as meant: add it by hand")
    try:
        m.Lora.model_validate(doc.data)
    except ValidationError as err:
        raise MirrorError(f"{display} with the mirror would not validate: {err.errors()[0]['msg']}") from err
