"""Stage `validate`: turn the YAML documents into a validated Catalog, or report every problem at once.

pydantic checks each file against its model; its error locations are mapped back onto the YAML nodes.
Checks that span files (duplicates, references between entries) run on the whole catalog.
"""

from __future__ import annotations

import argparse
import difflib
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from generator.catalog import models as m
from generator.catalog.load import Document, Loc, not_regular, read_document
from generator.catalog.recipes import Recipe
from generator.catalog.snapshot import SNAPSHOT_FILE, load_snapshot
from generator.errors import DataError, Problem
from generator.text import unsafe_character, unsafe_message

T = TypeVar("T", bound=BaseModel)

ENTRY_FOLDERS: dict[str, type[BaseModel]] = {
    "loras": m.Lora,
    "models": m.BaseModelEntry,
    "combinations": m.Combination,
    "special-use": m.SpecialUse,
    "recipes": Recipe,
    "releases": m.Release,
}
SINGLE_FILES: dict[str, type[BaseModel]] = {
    "site.yaml": m.Site,
    "notes/trivia.yaml": m.Trivia,
    "notes/merging.yaml": m.MergingNotes,
    "notes/rcm.yaml": m.RcmNote,
}
OPTIONAL_FILES: dict[str, type[BaseModel]] = {"dismissed.yaml": m.Dismissals}
"""Files that may be absent: dismissed.yaml only once a maintainer dismisses a candidate."""
OTHER_FILES = {SNAPSHOT_FILE, "README.md"}


@dataclass(frozen=True)
class Catalog:
    """Everything in data/, validated, with entries sorted by id."""

    site: m.Site
    trivia: m.Trivia
    merging: m.MergingNotes
    rcm: m.RcmNote
    loras: tuple[m.Lora, ...]
    models: tuple[m.BaseModelEntry, ...]
    combinations: tuple[m.Combination, ...]
    special_use: tuple[m.SpecialUse, ...]
    sources: dict[str, str]  # "<folder>/<id>" -> data file path, for reports
    recipes: tuple[Recipe, ...] = ()
    dismissed: tuple[m.Dismissal, ...] = ()
    releases: tuple[m.Release, ...] = ()

    def lora(self, lora_id: str) -> m.Lora:
        """The LoRA with this id."""
        return self._loras_by_id[lora_id]

    def release(self, release_id: str) -> m.Release:
        """The release with this id."""
        return self._releases_by_id[release_id]

    @cached_property
    def _releases_by_id(self) -> dict[str, m.Release]:
        return {release.id: release for release in self.releases}

    def model(self, model_id: str) -> m.BaseModelEntry:
        """The base model with this id."""
        return self._models_by_id[model_id]

    @cached_property
    def _loras_by_id(self) -> dict[str, m.Lora]:
        return {lora.id: lora for lora in self.loras}

    @cached_property
    def _models_by_id(self) -> dict[str, m.BaseModelEntry]:
        return {model.id: model for model in self.models}


@dataclass(frozen=True)
class _Parsed:
    doc: Document
    entry: BaseModel


def load_catalog(data_dir: Path, root: Path | None = None) -> Catalog:
    """Read and validate data_dir; raise DataError with all problems (paths shown relative to root)."""
    root = root or data_dir.parent
    problems: list[Problem] = []
    parsed: dict[str, list[_Parsed]] = {}
    under = _display(data_dir, root)
    for rel, model in _expected_files(data_dir, problems, under):
        item = _parse_file(data_dir / rel, _join_display(under, rel), model, problems)
        if item is not None:
            parsed.setdefault(_group(rel), []).append(item)
    problems.extend(
        Problem(_display(data_dir / name, root), 1, 1, "required file is missing")
        for name in SINGLE_FILES
        if not (data_dir / name).is_file()
    )
    problems.extend(_cross_checks(parsed, _ids_on_disk(data_dir)))
    problems.extend(_snapshot_problems(data_dir, root))
    if problems:
        raise DataError(problems)
    return _assemble(parsed)


def _snapshot_problems(data_dir: Path, root: Path) -> list[Problem]:
    """The committed Hub snapshot must load too (the site build reads it).

    A snapshot that is a symbolic link or a special file is never read: _files_under reported it.
    """
    path = data_dir / SNAPSHOT_FILE
    if os.path.lexists(path) and not stat.S_ISREG(path.lstat().st_mode):
        return []
    try:
        load_snapshot(path, _display(path, root))
    except DataError as err:
        return list(err.problems)
    return []


def _ids_on_disk(data_dir: Path) -> dict[str, set[str]]:
    """Ids of every entry file, parsed or not (an id must match its file name)."""
    return {folder: {p.stem for p in (data_dir / folder).glob("*.yaml")} for folder in ENTRY_FOLDERS}


def _display(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def _group(rel: str) -> str:
    folder = rel.split("/", 1)[0]
    return folder if folder in ENTRY_FOLDERS else rel


def _join_display(under: str, rel: str) -> str:
    return rel if under == "." else f"{under}/{rel}"


def _files_under(data_dir: Path, refused: list[str], prefix: str = "") -> list[str]:
    """Every regular file below data_dir as a relative POSIX path, in path order (no Path object per file).

    Symbolic links and special files are never followed: their paths go to refused (hidden names, such
    as an editor's lock links, are skipped).
    """
    found: list[str] = []
    with os.scandir(data_dir) as entries:
        for entry in sorted(entries, key=lambda e: e.name):
            if entry.is_dir(follow_symlinks=False):
                found.extend(_files_under(Path(entry.path), refused, f"{prefix}{entry.name}/"))
            elif entry.is_file(follow_symlinks=False):
                found.append(prefix + entry.name)
            elif not entry.name.startswith("."):
                refused.append(prefix + entry.name)
    return found


def _expected_files(
    data_dir: Path, problems: list[Problem], under: str
) -> Iterator[tuple[str, type[BaseModel]]]:
    refused: list[str] = []
    files = _files_under(data_dir, refused)
    problems.extend(
        not_regular(_join_display(under, rel), symlink=(data_dir / rel).is_symlink()) for rel in refused
    )
    for rel in files:
        folder, _, name = rel.rpartition("/")
        top = rel.split("/", 1)[0]
        if (char := unsafe_character(rel)) is not None:
            message = f"file name: {unsafe_message(char)}; rename the file"
            problems.append(Problem(_join_display(under, rel), 1, 1, message))
        elif rel in SINGLE_FILES or rel in OPTIONAL_FILES:
            yield rel, SINGLE_FILES.get(rel) or OPTIONAL_FILES[rel]
        elif top in ENTRY_FOLDERS and folder == top and rel.endswith(".yaml"):
            yield rel, ENTRY_FOLDERS[top]
        elif rel not in OTHER_FILES and not name.startswith("."):
            hint = "data files end in .yaml" if top in ENTRY_FOLDERS else "unexpected file in data/"
            problems.append(Problem(_join_display(under, rel), 1, 1, f"{hint}; entries go in {_folders()}"))


def _folders() -> str:
    return ", ".join(f"data/{name}/<id>.yaml" for name in ENTRY_FOLDERS)


def _parse_file(file: Path, display: str, model: type[T], problems: list[Problem]) -> _Parsed | None:
    doc, found = read_document(file, display)
    problems.extend(found)
    if doc is None:
        return None
    taken = {(p.line, p.col) for p in found}
    try:
        entry = model.model_validate(doc.data)
    except ValidationError as err:
        mapped = [_map_error(error, doc, model) for error in own_errors(err)]
        problems.extend(p for p in _merge_alternatives(mapped) if (p.line, p.col) not in taken)
        return None
    if found:
        return None
    if hasattr(entry, "id") and entry.id != file.stem:
        line, col = doc.values[("id",)]
        problems.append(Problem(display, line, col, _id_mismatch(entry.id, file)))
        return None
    return _Parsed(doc, entry)


def own_errors(err: ValidationError) -> list[ErrorDetails]:
    """The validation errors, without a list's "too short" that only repeats its items' errors.

    pydantic counts the items that validated: a recipe path whose only stages fail would also read 'Tuple
    should have at least 1 item after validation, not 0', a false second error; a list given too few items
    still gets it."""
    return [
        error
        for error in err.errors(include_url=False)
        if error["type"] != "too_short"
        or not isinstance(error["input"], list | tuple)
        or len(error["input"]) < error.get("ctx", {}).get("min_length", 0)
    ]


def _map_error(error: ErrorDetails, doc: Document, model: type[BaseModel]) -> Problem:
    real = _real_loc(error["loc"], doc.data)
    dotted = ".".join(str(part) for part in real)
    if error["type"] == "extra_forbidden":
        line, col = doc.keys.get(real, doc.values.get(real, (1, 1)))
        return Problem(doc.path, line, col, _unknown_field(dotted, real, model))
    if error["type"] == "missing":
        field = str(error["loc"][-1])
        line, col = doc.values.get(real, (1, 1))
        where = f" in '{dotted}'" if dotted else ""
        return Problem(doc.path, line, col, f"missing required field '{field}'{where}")
    line, col = doc.values.get(real, (1, 1))
    message = error["msg"].removeprefix("Value error, ")
    return Problem(doc.path, line, col, f"{dotted or 'file'}: {message}")


def _id_mismatch(entry_id: str, file: Path) -> str:
    other = file.parent / f"{entry_id}.yaml"
    if other.exists():
        return f"duplicate id '{entry_id}': {file.parent.name}/{other.name} has it (the id must match the file name)"
    return f"id '{entry_id}' must match the file name '{file.stem}.yaml'"


def _merge_alternatives(found: list[Problem]) -> list[Problem]:
    """A union type gives one error per alternative at the same place: join them into one message."""
    by_place: dict[tuple[int, int], list[str]] = {}
    for problem in found:
        by_place.setdefault((problem.line, problem.col), []).append(problem.message)
    path = found[0].path if found else ""
    return [Problem(path, line, col, _join(messages)) for (line, col), messages in by_place.items()]


def _join(messages: list[str]) -> str:
    field, _, first = messages[0].partition(": ")
    if all(message.startswith(f"{field}: ") for message in messages):
        rest = [message.partition(": ")[2] for message in messages[1:]]
        return f"{field}: " + "; or ".join([first, *rest])
    return "; ".join(messages)


def _real_loc(loc: tuple[int | str, ...], data: Any) -> Loc:
    """Drop the parts of a pydantic location that are not in the data (union tags, validator names)."""
    real: list[str | int] = []
    current = data
    for part in loc:
        if _has(current, part):
            current = current[part]
            real.append(part)
    return tuple(real)


def _has(container: Any, part: int | str) -> bool:
    if isinstance(container, dict):
        return part in container
    return isinstance(container, list) and isinstance(part, int) and 0 <= part < len(container)


def _unknown_field(dotted: str, real: Loc, model: type[BaseModel]) -> str:
    name = str(real[-1]) if real else dotted
    known = _fields_at(model, real[:-1])
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"; did you mean '{close[0]}'?" if close else f"; allowed: {', '.join(known)}" if known else ""
    return f"unknown field '{dotted}'{hint}"


def _fields_at(model: type[BaseModel], loc: Loc) -> list[str]:
    """Field names of the (nested) model at loc, when it can be followed."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        info = getattr(current, "model_fields", {}).get(part)
        current = _inner_model(info.annotation) if info is not None else None
    return sorted(getattr(current, "model_fields", {}))


def _inner_model(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


# --- checks across files ---------------------------------------------------------------------------


def _cross_checks(parsed: dict[str, list[_Parsed]], ids: dict[str, set[str]]) -> Iterator[Problem]:
    yield from _duplicate_files(parsed.get("loras", []))
    yield from _release_checks(parsed.get("loras", []), ids)
    for item in parsed.get("combinations", []):
        yield from _combination_refs(item, ids)
    for item in parsed.get("notes/rcm.yaml", []):
        yield from _refs(item, ("loras",), ids["loras"], "LoRA", "loras")
    for item in parsed.get("recipes", []):
        yield from _recipe_refs(item, ids)
    for item in parsed.get("dismissed.yaml", []):
        yield from _dismissal_checks(item, parsed.get("loras", []))


def _duplicate_files(loras: list[_Parsed]) -> Iterator[Problem]:
    """A place (repo and path) is catalogued once: as one entry's file or as one of its mirrors."""
    seen: dict[tuple[str, str], _Parsed] = {}
    for item in loras:
        lora = item.entry
        assert isinstance(lora, m.Lora)
        for index, file in enumerate(lora.files):
            key = (file.repo, file.path)
            if key in seen and seen[key] is not item:
                loc: Loc = ("file",) if index == 0 else ("mirrors", index - 1)
                line, col = item.doc.values.get(loc, (1, 1))
                yield Problem(
                    item.doc.path, line, col, f"the same file is already listed in {seen[key].doc.path}"
                )
            else:
                seen.setdefault(key, item)


def _release_checks(loras: list[_Parsed], ids: dict[str, set[str]]) -> Iterator[Problem]:
    """Each release named exists, and the files of one release are one family (not filed under two)."""
    families: dict[str, tuple[str, str]] = {}
    for item in loras:
        lora = item.entry
        assert isinstance(lora, m.Lora)
        if lora.release is None:
            continue
        yield from _refs(item, ("release",), ids["releases"], "release", "releases")
        first = families.setdefault(lora.release, (lora.family, item.doc.path))
        if first[0] != lora.family:
            line, col = item.doc.values.get(("family",), (1, 1))
            message = (
                f"release '{lora.release}' is family '{first[0]}' in {first[1]}: the files of one release are "
                "one family"
            )
            yield Problem(item.doc.path, line, col, message)


def _dismissal_checks(item: _Parsed, loras: list[_Parsed]) -> Iterator[Problem]:
    """A file is dismissed once, and never while the catalog holds it (one of the two is out of date)."""
    assert isinstance(item.entry, m.Dismissals)
    catalogued = {
        (file.repo, file.path): lora.doc.path
        for lora in loras
        if isinstance(lora.entry, m.Lora)
        for file in lora.entry.files
    }
    first: dict[tuple[str, str], int] = {}
    for index, dismissal in enumerate(item.entry.files):
        key = (dismissal.repo, dismissal.path)
        line, col = item.doc.values.get(("files", index, "path"), (1, 1))
        if key in first:
            yield Problem(item.doc.path, line, col, f"this file is already dismissed on line {first[key]}")
        elif key in catalogued:
            yield Problem(
                item.doc.path,
                line,
                col,
                f"{catalogued[key]} catalogues this file: remove this dismissal or that entry",
            )
        first.setdefault(key, line)


def _combination_refs(item: _Parsed, ids: dict[str, set[str]]) -> Iterator[Problem]:
    for expert in ("high", "low"):
        yield from _refs(item, (expert, "model"), ids["models"], "base model", "models")
        setup = item.doc.data.get(expert) or {}
        for index in range(len(setup.get("loras") or [])):
            yield from _refs(item, (expert, "loras", index, "lora"), ids["loras"], "LoRA", "loras")


def _recipe_refs(item: _Parsed, ids: dict[str, set[str]]) -> Iterator[Problem]:
    for path in ("lora_path", "default_path"):
        for index, stage in enumerate(_get(item.doc.data, (path, "stages")) or []):
            yield from _refs(item, (path, "stages", index, "model"), ids["models"], "base model", "models")
            for number in range(len(stage.get("loras") or [])):
                loc = (path, "stages", index, "loras", number, "lora")
                yield from _refs(item, loc, ids["loras"], "LoRA", "loras")
    # the download block links each LoRA's page
    for index in range(len(_get(item.doc.data, ("files",)) or [])):
        yield from _refs(item, ("files", index, "lora"), ids["loras"], "LoRA", "loras")


def _refs(item: _Parsed, loc: Loc, known: set[str], what: str, folder: str) -> Iterator[Problem]:
    value = _get(item.doc.data, loc)
    values = value if isinstance(value, list) else [value]
    for index, ref in enumerate(values):
        if ref is None or ref in known:
            continue
        at = (*loc, index) if isinstance(value, list) else loc
        line, col = item.doc.values.get(at, (1, 1))
        close = difflib.get_close_matches(str(ref), sorted(known), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        yield Problem(item.doc.path, line, col, f"unknown {what} '{ref}' (no data/{folder}/{ref}.yaml){hint}")


def _get(data: Any, loc: Loc) -> Any:
    for part in loc:
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and isinstance(part, int) and part < len(data):
            data = data[part]
        else:
            return None
    return data


def _assemble(parsed: dict[str, list[_Parsed]]) -> Catalog:
    def entries(group: str, kind: type[T]) -> tuple[T, ...]:
        found = [item.entry for item in parsed.get(group, []) if isinstance(item.entry, kind)]
        return tuple(sorted(found, key=_entry_id))

    def single(name: str, kind: type[T]) -> T:
        entry = parsed[name][0].entry
        assert isinstance(entry, kind)
        return entry

    sources = {
        f"{group}/{_entry_id(item.entry)}": item.doc.path
        for group in ENTRY_FOLDERS
        for item in parsed.get(group, [])
    }
    return Catalog(
        site=single("site.yaml", m.Site),
        trivia=single("notes/trivia.yaml", m.Trivia),
        merging=single("notes/merging.yaml", m.MergingNotes),
        rcm=single("notes/rcm.yaml", m.RcmNote),
        loras=entries("loras", m.Lora),
        models=entries("models", m.BaseModelEntry),
        combinations=entries("combinations", m.Combination),
        special_use=entries("special-use", m.SpecialUse),
        sources=sources,
        recipes=entries("recipes", Recipe),
        dismissed=_dismissed(parsed),
        releases=entries("releases", m.Release),
    )


def _dismissed(parsed: dict[str, list[_Parsed]]) -> tuple[m.Dismissal, ...]:
    """The dismissed files, when data/dismissed.yaml exists."""
    found = [item.entry for item in parsed.get("dismissed.yaml", [])]
    return tuple(dismissal for entry in found if isinstance(entry, m.Dismissals) for dismissal in entry.files)


def _entry_id(entry: Any) -> str:
    return str(entry.id)


def run(args: argparse.Namespace) -> int:
    """Stage ``validate``: problems are raised as DataError and printed by the CLI."""
    catalog = load_catalog(args.root / "data", args.root)
    print(
        f"data/ is valid: {len(catalog.loras)} LoRAs, {len(catalog.models)} base models, "
        f"{len(catalog.combinations)} combinations, {len(catalog.special_use)} special-use links"
    )
    return 0
