"""Stage `import-templates`: recipes from ComfyUI's official workflow templates (a maintainer tool).

Reads the installed package ``comfyui-workflow-templates-json`` (pinned in constraints.txt) and writes
data/recipes/<id>.yaml, one per Wan template that loads a LoRA and one per *baseline* (a template that loads
no LoRA and runs only catalogued base models' own files, named in their ``downloads``), and
data/loras/<id>.yaml for each LoRA file the templates download that the catalog lacks, as a file or as a
mirror (source: official-templates), so the weekly check covers it. A new LoRA entry's task is the one its
file name states, else that of the catalogued model it runs on, else the one its template's name states;
without any of them the import stops (no task is guessed).
The templates are untrusted input: each is checked, and every fault of every template is reported at once
as `path:line:col: message` (exit 1) before anything is written. A package with no Wan template (empty, or
its templates moved) is refused, never read as "every recipe is gone"; so is one that lacks templates
existing recipes were read from, unless it is a new version and the maintainer passes --allow-removals
(then those recipes are removed, and printed as removed). Each file is written by a YAML
serializer, read back and validated first; then all files are written or none (see write.py). A file
whose text would not change is left alone, and an entry keeps its `added` date, so a second run writes
nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import importlib.metadata
import importlib.resources
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from generator.catalog import models as m
from generator.catalog.new_lora import file_slug, in_field_order, lora_fields, slug
from generator.catalog.recipes import Recipe
from generator.catalog.validate import Catalog, load_catalog, own_errors
from generator.errors import DataError, ExitCode, Problem
from generator.recipes.files import template_files
from generator.recipes.graph import Workflow, workflow
from generator.recipes.jsonfile import Fault, Faults, line_col, locate, parse
from generator.recipes.recipe import BASELINE_LABEL, Lookup, loads_lora, recipe_data, stated_task
from generator.recipes.write import Changes, WriteFailed, write_all

PACKAGE = "comfyui-workflow-templates-json"
MODULE = "comfyui_workflow_templates_json"
_HEADER = (
    "# yaml-language-server: $schema=../../schemas/{schema}.schema.json\n"
    "# Written by `python -m generator import-templates` from {package} {version}: "
    "re-run it instead of editing.\n"
)
_LORA_HEADER = (
    "# yaml-language-server: $schema=../../schemas/{schema}.schema.json\n"
    "# First written by `python -m generator import-templates` from {package} {version}; "
    "edit it like any entry (the importer never rewrites it).\n"
)
Data = dict[str, Any]


class ImportError_(Exception):
    """The package is missing, empty or moved, or a write failed (and was undone)."""


@dataclass(frozen=True)
class Templates:
    """The installed package: its version, its templates folder and the titles of its index."""

    version: str
    folder: Path
    titles: dict[str, str]


def installed() -> Templates:
    """The installed templates package (ImportError_ when it is not installed, DataError for a bad index)."""
    try:
        version = importlib.metadata.version(PACKAGE)
    except importlib.metadata.PackageNotFoundError as err:
        raise ImportError_(
            f"{PACKAGE} is not installed: pip install -r requirements/dev.txt -c constraints.txt"
        ) from err
    return templates_at(Path(str(importlib.resources.files(MODULE) / "templates")), version)


def templates_at(folder: Path, version: str) -> Templates:
    """The templates in folder with the titles of its index.json (refused when either is missing)."""
    where = f"{PACKAGE} {version}"
    if not folder.is_dir():
        raise ImportError_(f"{where} has no templates folder at {folder} (moved?); nothing was written")
    index = folder / "index.json"
    if not index.is_file():
        raise ImportError_(f"{where} has no index.json in {folder} (moved?); nothing was written")
    return Templates(version, folder, _titles(index))


def _titles(index: Path) -> dict[str, str]:
    """Template name -> title, from the package's index (a list of categories, each with templates)."""
    raw = index.read_bytes()
    try:
        _, categories = parse(raw)
    except Faults as err:
        raise DataError(_problems(index, raw, err.faults)) from err
    titles: dict[str, str] = {}
    faults: list[Fault] = []
    for number, category in enumerate(categories if isinstance(categories, list) else [None]):
        entries = category.get("templates") if isinstance(category, dict) else None
        if not isinstance(entries, list | None):
            faults.append(Fault("'templates' is not a list", (number,)))
        for place, entry in enumerate(entries or []):
            if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                faults.append(Fault("a template entry needs a text 'name'", (number, "templates", place)))
            elif isinstance(entry.get("title"), str):
                titles[entry["name"]] = entry["title"].strip()
    if not isinstance(categories, list):
        faults = [Fault("the index is not a list of categories")]
    if faults:
        raise DataError(_problems(index, raw, faults))
    return titles


def run(args: argparse.Namespace) -> int:
    """Write the recipes and LoRA entries; print what was written and what was removed."""
    try:
        changes = import_templates(
            args.root, args.date or dt.date.today(), allow_removals=args.allow_removals
        )
    except (ImportError_, WriteFailed) as err:
        print(f"import-templates: {err}", file=sys.stderr)
        return ExitCode.USAGE
    for verb, paths in (("wrote", changes.written), ("removed", changes.removed)):
        for path in paths:
            print(f"{verb} {path.relative_to(args.root).as_posix()}")
    if not changes.written and not changes.removed:
        print("import-templates: data is up to date")
    else:
        removed = f", {len(changes.removed)} removed" if changes.removed else ""
        print(f"import-templates: {len(changes.written)} written{removed}")
    return ExitCode.OK


def import_templates(
    root: Path, today: dt.date, templates: Templates | None = None, *, allow_removals: bool = False
) -> Changes:
    """Import every Wan LoRA template; return the files written and removed (none when nothing changed).

    DataError with every fault of every template (nothing written); ImportError_ when the package holds
    no Wan LoRA template, or lacks templates that recipes were read from (see :func:`_removals`);
    WriteFailed when a write failed (what was written before it is restored).
    """
    templates = templates or installed()
    catalog = load_catalog(root / "data", root)
    plan = _plan(root, today, templates, catalog)
    for recipe in _removals(catalog, plan, templates, allow_removals):
        plan[_recipe_file(recipe.id)] = None
    return write_all(root, plan)


def _removals(
    catalog: Catalog, plan: dict[str, str | None], templates: Templates, allow: bool
) -> list[Recipe]:
    """The recipes read from the package that this import no longer writes: refused (ImportError_, naming
    each) unless the maintainer allows removals and the package is another version than theirs.

    A package that lacks most templates is far more often a damaged or stand-in install than a release
    that dropped them; the same version dropping templates is never a release.
    """
    stale = sorted(
        (
            recipe
            for recipe in catalog.recipes
            if recipe.source.package == PACKAGE and _recipe_file(recipe.id) not in plan
        ),
        key=lambda recipe: _recipe_file(recipe.id),  # the order of the files
    )
    versions = sorted({recipe.source.version for recipe in stale})
    if not stale or (allow and templates.version not in versions):
        return stale
    listed = "".join(f"\n  {_recipe_file(recipe.id)}: {_why_stale(recipe, templates)}" for recipe in stale)
    if templates.version in versions:
        hint = (
            "they were read from this same version: the package is damaged or not the one installed "
            "(pip install -r requirements/dev.txt -c constraints.txt); --allow-removals is only for a new version"
        )
    else:
        hint = (
            f"they were read from {', '.join(versions)}; if {templates.version} dropped these templates, run "
            "again with --allow-removals to remove these recipes"
        )
    raise ImportError_(
        f"{PACKAGE} {templates.version} would remove {len(stale)} recipe{'s' if len(stale) > 1 else ''}; "
        f"nothing was written:{listed}\n{hint}"
    )


def _recipe_file(recipe_id: str) -> str:
    """A recipe's file, as the plan names it (relative to the project folder)."""
    return f"data/recipes/{recipe_id}.yaml"


def _why_stale(recipe: Recipe, templates: Templates) -> str:
    template = recipe.source.template
    if (templates.folder / f"{template}.json").is_file():
        return f"its template {template} gives no recipe now"
    return f"its template {template} is not in the package"


def _plan(root: Path, today: dt.date, templates: Templates, catalog: Catalog) -> dict[str, str | None]:
    """Every file's new text (None: delete), computed and validated before anything is written."""
    files = sorted(f for f in templates.folder.glob("*.json") if "wan" in f.stem.lower())
    if not files:
        raise ImportError_(
            f"no Wan template in {templates.folder}: the package is empty or its templates moved; "
            "nothing was written"
        )
    problems: list[Problem] = []
    new_loras: dict[str, Data] = {}
    recipes: dict[str, Data] = {}
    for file in files:
        try:
            found = _recipe(file, templates, catalog, new_loras)
        except Faults as err:
            problems += _problems(file, file.read_bytes(), err.faults, root)
            continue
        if found is None:
            continue
        if found["id"] in recipes:
            message = (
                f"gives the recipe id '{found['id']}', as {recipes[found['id']]['source']['template']} does"
            )
            problems.append(Problem(_shown(file, root), 1, 1, message))
        recipes[found["id"]] = found
    if problems:
        raise DataError(problems)
    if all(recipe["lora_path"]["label"] == BASELINE_LABEL for recipe in recipes.values()):
        raise ImportError_(
            f"none of the {len(files)} Wan templates in {templates.folder} loads a LoRA: "
            "the package is not the one the recipes come from; nothing was written"
        )
    return _texts(root / "data", today, templates, recipes, new_loras, root)


def _recipe(file: Path, templates: Templates, catalog: Catalog, new_loras: dict[str, Data]) -> Data | None:
    """One template's recipe data (None when it loads no LoRA and is no baseline); Faults when it cannot be
    read, or when a LoRA it brings into the catalog has no task to take."""
    _, value = parse(file.read_bytes())
    graph, faults = workflow(value)
    if graph is None:
        raise Faults(faults)  # a Wan template that cannot be read might have held a recipe
    if not loads_lora(graph) and not _baseline(graph, catalog):
        return None
    links = _lora_links(template_files(graph))
    lookup = Lookup(functools.partial(_lora_id, catalog, links, new=new_loras), _model_lookup(catalog))
    data = recipe_data(file.stem, templates.titles.get(file.stem), graph, lookup)
    recipe_id = slug(file.stem.removeprefix("video_"))
    source = {"package": PACKAGE, "version": templates.version, "template": file.stem}
    if file.stem in templates.titles:
        source["title"] = templates.titles[file.stem]
    _complete_new_loras(data, file.stem, catalog, new_loras)
    return {"id": recipe_id, **data, "source": source}


def _baseline(graph: Workflow, catalog: Catalog) -> bool:
    """A LoRA-free template whose diffusion models are all catalogued base models' own files (their downloads):
    the model's own settings. Fun, Animate or ATI templates run models of their own, and are not taken."""
    models = {
        f["path"].rsplit("/", 1)[-1] for f in template_files(graph) if f["folder"] == "diffusion_models"
    }
    bases = _download_files(catalog, kinds=("base",))
    return bool(models) and models <= set(bases)


def _download_files(catalog: Catalog, kinds: tuple[str, ...]) -> dict[str, str]:
    """File name -> id of the catalogued model (of those kinds) that lists it as a single-file download."""
    return {
        download.link.path.rsplit("/", 1)[-1]: model.id
        for model in catalog.models
        if model.kind in kinds
        for download in model.downloads
        if isinstance(download.link, m.HfLink) and download.link.kind == "file" and download.link.path
    }


def _complete_new_loras(data: Data, name: str, catalog: Catalog, new_loras: dict[str, Data]) -> None:
    """Give each LoRA entry this template brings into the catalog its generation and task (when its file name
    states neither): those of the catalogued model it runs on, else the template name's; else refuse."""
    stages = [
        stage for key in ("lora_path", "default_path") for stage in (data.get(key) or {}).get("stages", [])
    ]
    for stage in stages:
        model = catalog.model(stage["model"]) if stage.get("model") else None
        for use in stage["loras"]:
            entry = new_loras.get(use.get("lora") or "")
            if entry is None:
                continue
            entry.setdefault("generation", model.generation if model else data["generation"])
            if "task" in entry:
                continue
            task = model.task if model else stated_task(name)
            if task is None:
                raise Faults([Fault(_NO_TASK.format(file=use["file"]))])
            entry["task"] = task


_NO_TASK = (
    "the LoRA {file} would be catalogued without a task: its file name states none, the template runs no "
    "catalogued model and its name states none; add the model to data/models/ or the LoRA with `generator add`"
)


def _texts(
    data_dir: Path,
    today: dt.date,
    templates: Templates,
    recipes: dict[str, Data],
    new_loras: dict[str, Data],
    root: Path,
) -> dict[str, str | None]:
    """Each file's text; a recipe that would not validate is reported at the template it comes from (its
    file does not exist yet, or holds the last import)."""
    plan: dict[str, str | None] = {}
    problems: list[Problem] = []
    for lora_id, lora in sorted(new_loras.items()):
        target = data_dir / "loras" / f"{lora_id}.yaml"
        entry = in_field_order({**lora, "added": _added(target, today)})
        shown = _shown(target, root)
        plan[shown], faults = _text(entry, m.Lora, "lora", templates.version, _LORA_HEADER)
        problems += [Problem(shown, 1, 1, fault) for fault in faults]
    for recipe_id, recipe in sorted(recipes.items()):
        target = data_dir / "recipes" / f"{recipe_id}.yaml"
        entry = {**recipe, "added": _added(target, today)}
        shown = _shown(target, root)
        plan[shown], faults = _text(entry, Recipe, "recipe", templates.version)
        template = _shown(templates.folder / f"{recipe['source']['template']}.json", root)
        problems += [Problem(template, 1, 1, f"its recipe {shown} {fault}") for fault in faults]
    if problems:
        raise DataError(problems)
    return plan


def _lora_links(files: list[Data]) -> dict[str, tuple[str, str]]:
    return {f["path"].rsplit("/", 1)[-1]: (f["repo"], f["path"]) for f in files if f["folder"] == "loras"}


def _lora_id(
    catalog: Catalog, links: dict[str, tuple[str, str]], name: str, new: dict[str, Data]
) -> str | None:
    """The catalog id of a LoRA file the template links to; a new entry is planned when it is missing."""
    if name not in links:
        return None
    repo, path = links[name]
    for lora in catalog.loras:
        if any((file.repo, file.path) == (repo, path) for file in lora.files):
            return lora.id
    for lora_id, entry in new.items():
        if entry["file"] == {"repo": repo, "path": path}:
            return lora_id
    lora_id = file_slug(path)
    if lora_id in {lora.id for lora in catalog.loras} | set(new):  # the same name in another repo
        lora_id = f"{lora_id}-{slug(repo.split('/')[0])}"
    new[lora_id] = {**lora_fields(lora_id, repo, path), "source": "official-templates"}
    return lora_id


def _model_lookup(catalog: Catalog) -> Any:
    """The catalogued model a stage runs: the one listing its file as a download, else the base model of its
    architecture and noise expert (never a distilled checkpoint)."""
    files = _download_files(catalog, kinds=("base", "variant"))

    def model_id(model_file: str | None, arch: str | None, noise: str | None) -> str | None:
        if model_file in files:
            return files[model_file]
        if arch is None:
            return None
        for model in catalog.models:
            if model.architecture != arch or model.kind != "base":
                continue
            if (
                model.expert == noise
                or (noise and model.expert == "both")
                or (noise is None and model.expert is None)
            ):
                return model.id
        return None

    return model_id


def _added(target: Path, today: dt.date) -> dt.date:
    """The entry's `added` date: kept from the file already written, else today."""
    try:
        found = yaml.safe_load(target.read_text(encoding="utf-8"))
    except (OSError, ValueError, yaml.YAMLError):  # UnicodeDecodeError is a ValueError
        return today
    added = found.get("added") if isinstance(found, dict) else None
    return added if isinstance(added, dt.date) else today


def _text(
    data: Data, model: type[BaseModel], schema: str, version: str, header: str = _HEADER
) -> tuple[str, list[str]]:
    """The file's text: serialized, read back and validated; with what is wrong with it (none, normally)."""
    body = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=False, width=4096)
    text = header.format(schema=schema, package=PACKAGE, version=version) + body
    faults = [] if yaml.safe_load(text) == data else ["does not read back as meant from its YAML"]
    try:
        model.model_validate(data)
    except ValidationError as err:
        for error in own_errors(err):
            where = ".".join(str(part) for part in error["loc"])
            faults.append(f"would not validate: {where}: {error['msg']}")
    return text, faults


def _problems(file: Path, raw: bytes, faults: list[Fault], root: Path | None = None) -> list[Problem]:
    """Each fault as `path:line:col: message`, its place found in the file's text."""
    text = raw.decode("utf-8", errors="replace")
    shown = _shown(file, root) if root else file.as_posix()
    found = []
    for fault in faults:
        offset = fault.offset if fault.offset is not None else locate(text, fault.where)
        line, col = line_col(text, offset)
        found.append(Problem(shown, line, col, fault.message))
    return found


def _shown(path: Path, root: Path | None) -> str:
    try:
        return path.relative_to(root).as_posix() if root else path.as_posix()
    except ValueError:
        return path.as_posix()


__all__ = ["PACKAGE", "Templates", "import_templates", "installed", "templates_at"]
