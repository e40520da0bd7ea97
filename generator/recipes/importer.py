"""Stage `import-templates`: recipes from ComfyUI's official workflow templates (a maintainer tool).

Reads the installed package ``comfyui-workflow-templates-json`` (pinned in constraints.txt) and writes
data/recipes/<id>.yaml, one per Wan template that loads a LoRA, and data/loras/<id>.yaml for each LoRA file
the templates download that the catalog lacks (source: official-templates), so the weekly check covers it.
Each file is written by a YAML serializer, read back and validated first; a file whose text would not
change is left alone, and an entry keeps its `added` date, so a second run writes nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import importlib.metadata
import importlib.resources
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from generator.catalog import models as m
from generator.catalog.new_lora import file_slug, in_field_order, lora_fields, slug
from generator.catalog.recipes import Recipe
from generator.catalog.validate import Catalog, load_catalog
from generator.errors import ExitCode
from generator.files import write_atomic
from generator.recipes.recipe import Lookup, loads_wan_lora, recipe_data

PACKAGE = "comfyui-workflow-templates-json"
MODULE = "comfyui_workflow_templates_json"
_HEADER = (
    "# yaml-language-server: $schema=../../schemas/{schema}.schema.json\n"
    "# Written by `python -m generator import-templates` from {package} {version}: "
    "re-run it instead of editing.\n"
)
Data = dict[str, Any]


class ImportError_(Exception):
    """The package is missing or a written entry does not validate."""


@dataclass(frozen=True)
class Templates:
    """The installed package: its version, its templates folder and the titles of its index."""

    version: str
    folder: Path
    titles: dict[str, str]


def installed() -> Templates:
    """The installed templates package (ImportError_ when it is not installed)."""
    try:
        version = importlib.metadata.version(PACKAGE)
    except importlib.metadata.PackageNotFoundError as err:
        raise ImportError_(
            f"{PACKAGE} is not installed: pip install -r requirements/dev.txt -c constraints.txt"
        ) from err
    folder = Path(str(importlib.resources.files(MODULE) / "templates"))
    titles: dict[str, str] = {}
    index = folder / "index.json"
    if index.is_file():
        for category in json.loads(index.read_text(encoding="utf-8")):
            for template in category.get("templates") or []:
                if isinstance(template.get("name"), str) and isinstance(template.get("title"), str):
                    titles[template["name"]] = template["title"].strip()
    return Templates(version, folder, titles)


def run(args: argparse.Namespace) -> int:
    """Write the recipes and LoRA entries; print what changed."""
    try:
        written = import_templates(args.root, args.date or dt.date.today())
    except ImportError_ as err:
        print(f"import-templates: {err}", file=sys.stderr)
        return ExitCode.USAGE
    for path in written:
        print(f"wrote {path.relative_to(args.root).as_posix()}")
    print(
        f"import-templates: {len(written)} files written"
        if written
        else "import-templates: data is up to date"
    )
    return ExitCode.OK


def import_templates(root: Path, today: dt.date, templates: Templates | None = None) -> list[Path]:
    """Import every Wan LoRA template; return the files written (none when nothing changed)."""
    templates = templates or installed()
    data_dir = root / "data"
    catalog = load_catalog(data_dir, root)
    new_loras: dict[str, Data] = {}
    recipes: dict[str, Data] = {}
    for file in sorted(templates.folder.glob("*.json")):
        workflow = json.loads(file.read_text(encoding="utf-8"))
        if not isinstance(workflow, dict) or not loads_wan_lora(file.stem, workflow):
            continue
        links = _lora_links(workflow)
        lookup = Lookup(functools.partial(_lora_id, catalog, links, new=new_loras), _model_lookup(catalog))
        data = recipe_data(file.stem, templates.titles.get(file.stem), workflow, lookup)
        recipe_id = slug(file.stem.removeprefix("video_"))
        source = {"package": PACKAGE, "version": templates.version, "template": file.stem}
        if file.stem in templates.titles:
            source["title"] = templates.titles[file.stem]
        recipes[recipe_id] = {"id": recipe_id, **data, "source": source}
        for lora in new_loras.values():
            lora.setdefault("generation", data["generation"])
            lora.setdefault(
                "task", data["task"] if data["task"] in ("T2V", "I2V", "TI2V", "VACE", "S2V") else "I2V"
            )
    written: list[Path] = []
    for lora_id, lora in sorted(new_loras.items()):
        target = data_dir / "loras" / f"{lora_id}.yaml"
        entry = in_field_order({**lora, "added": _added(target, today)})
        written += _write(target, entry, m.Lora, "lora", templates.version)
    for recipe_id, recipe in sorted(recipes.items()):
        target = data_dir / "recipes" / f"{recipe_id}.yaml"
        written += _write(
            target, {**recipe, "added": _added(target, today)}, Recipe, "recipe", templates.version
        )
    for stale in sorted((data_dir / "recipes").glob("*.yaml")):
        if stale.stem not in recipes and f"from {PACKAGE} " in stale.read_text(encoding="utf-8"):
            stale.unlink()
            written.append(stale)
    return written


def _lora_links(workflow: Data) -> dict[str, tuple[str, str]]:
    from generator.recipes.recipe import template_files

    return {
        f["path"].rsplit("/", 1)[-1]: (f["repo"], f["path"])
        for f in template_files(workflow)
        if f["folder"] == "loras"
    }


def _lora_id(
    catalog: Catalog, links: dict[str, tuple[str, str]], name: str, new: dict[str, Data]
) -> str | None:
    """The catalog id of a LoRA file the template links to; a new entry is planned when it is missing."""
    if name not in links:
        return None
    repo, path = links[name]
    for lora in catalog.loras:
        if (lora.file.repo, lora.file.path) == (repo, path):
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
    def model_id(model_file: str | None, arch: str | None, noise: str | None) -> str | None:
        if arch is None:
            return None
        for model in catalog.models:
            if model.architecture != arch or (model.description and "distill" in model.description):
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
    except (OSError, yaml.YAMLError):
        return today
    added = found.get("added") if isinstance(found, dict) else None
    return added if isinstance(added, dt.date) else today


def _write(target: Path, data: Data, model: type[BaseModel], schema: str, version: str) -> list[Path]:
    """Serialize, read back, validate, then write when the text changed."""
    body = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=False, width=4096)
    text = _HEADER.format(schema=schema, package=PACKAGE, version=version) + body
    if yaml.safe_load(text) != data:
        raise ImportError_(f"{target.name}: the YAML does not read back as meant")
    model.model_validate(data)
    return [target] if write_atomic(target, text) else []


__all__ = ["PACKAGE", "Templates", "import_templates", "installed"]
