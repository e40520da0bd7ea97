"""Turn one workflow template into recipe data: its paths, stages, numbers (rounded) and files.

Everything here is a pure function of the workflow JSON; the catalog's ids are looked up by the caller
through the two callables it passes (LoRA file name -> id, model file -> id).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from generator.lora.filename import model_architecture, named_expert
from generator.recipes.files import template_files
from generator.recipes.graph import Workflow
from generator.recipes.jsonfile import Fault, Faults
from generator.recipes.notes import apply_settings, cited, guidance, settings
from generator.recipes.paths import NO_SAMPLER_NOTE, Paths, paths
from generator.recipes.read import LORA_NODES, Reader, Stage

Data = dict[str, Any]
_PLAIN = re.compile(r"video_wan2_[12]_[\d.]+B_(t2v|i2v|ti2v)", re.IGNORECASE)
BASELINE_LABEL = "as the template opens: no LoRA"
"""The one path of a baseline: a template that loads no LoRA, read for the model's own settings."""


@dataclass(frozen=True)
class Lookup:
    """The catalog's ids for what a template names (None when the catalog has no entry)."""

    lora_id: Callable[[str], str | None]
    model_id: Callable[[str | None, str | None, str | None], str | None]


def _unknown(*_names: str | None) -> None:
    """No catalog entry for anything a template names."""


NO_CATALOG = Lookup(_unknown, _unknown)
"""A lookup for a template read on its own (benchmarks, tests of the reader): the catalog knows nothing."""


def loads_lora(workflow: Workflow) -> bool:
    """Whether the workflow has at least one LoRA node."""
    return any(node["type"] in LORA_NODES for _, node in workflow.nodes())


def recipe_data(name: str, title: str | None, workflow: Workflow, lookup: Lookup) -> Data:
    """The recipe's fields except id, source and added (which the importer adds).

    A template that loads no LoRA is a *baseline* (the importer takes only those that run a catalogued base
    model's own file): its one path, the model's own settings, is the recipe's ``lora_path``, labelled
    :data:`BASELINE_LABEL`, and it is no variant. Faults when a value the recipe needs has the wrong kind
    (text where a number belongs …).
    """
    readers = {switch: Reader(workflow, switch) for switch in (None, True, False)}
    baseline = not loads_lora(workflow)
    found = _baseline(paths(workflow, readers)) if baseline else paths(workflow, readers)
    models = [stage.model_file for stage in (*found.lora, *found.default)]
    arch = next((found for found in map(model_architecture, models) if found), None)
    plain = (baseline or bool(_PLAIN.fullmatch(name))) and arch is not None
    data: Data = {
        "title": title or name,
        "generation": "2.2"
        if re.search(r"wan_?2[._]2|wan2\.2", name + " ".join(filter(None, models)))
        else "2.1",
        "task": _task(name, arch),
    }
    if arch:
        data["architecture"] = arch
    if not plain:
        data["variant"] = title or name
    data.update(_frame(workflow, readers[True]))
    data["lora_path"] = _path_data(found.labels[0], found.lora, lookup, found.groups[0])
    if found.default:
        data["default_path"] = _path_data(found.labels[1], found.default, lookup, found.groups[1])
    apply_settings(data, settings(workflow))
    if found.opens_with:
        data["opens_with"] = found.opens_with
    if found.notes:
        data["notes"] = found.notes
    quotes = [cited(quote) for quote in guidance(workflow)]
    if quotes:
        data["quotes"] = quotes
    stages = (*found.lora, *found.default)
    on_paths = {s.model_file for s in stages if s.model_file} | {u.file for s in stages for u in s.loras}
    files = template_files(workflow, on_paths)
    for file in files:
        lora = lookup.lora_id(file["path"].rsplit("/", 1)[-1]) if file["folder"] == "loras" else None
        if lora:
            file["lora"] = lora
    if files:
        data["files"] = files
    faults: list[Fault] = []
    for reader in readers.values():
        faults += [fault for fault in reader.faults if fault not in faults]
    if faults:
        raise Faults(faults)
    return data


def _baseline(found: Paths) -> Paths:
    """A LoRA-free template's paths: the samplers it opens with are its one path (no switch, no other path)."""
    stages = found.lora or found.default
    notes = [note for note in found.notes if note != NO_SAMPLER_NOTE or not stages]
    return replace(found, lora=stages, default=[], opens_with=None, labels=(BASELINE_LABEL, ""), notes=notes)


def _path_data(label: str, stages: list[Stage], lookup: Lookup, group: str | None) -> Data:
    data: Data = {"label": label, "stages": [_stage_data(stage, lookup) for stage in stages]}
    if group:
        data["group"] = group
    return data


def _stage_data(stage: Stage, lookup: Lookup) -> Data:
    data: Data = {}
    noise = named_expert(stage.model_file)
    if noise:
        data["expert"] = noise
    model = lookup.model_id(stage.model_file, model_architecture(stage.model_file), noise)
    if model:
        data["model"] = model
    if stage.model_file:
        data["model_file"] = stage.model_file
    data["loras"] = [_lora_data(use.file, use.strength, use.bypassed, lookup) for use in stage.loras]
    settings = stage.settings
    found = {
        "sampler": _text(settings.get("sampler_name")),
        "scheduler": _text(settings.get("scheduler")),
        "steps": _int(settings.get("steps")),
        "cfg": rounded(settings.get("cfg")),
        "shift": rounded(stage.shift),
        "start_step": _int(settings.get("start_at_step")),
        "end_step": _int(settings.get("end_at_step")),
    }
    steps = found["steps"]
    if isinstance(steps, int) and isinstance(found["end_step"], int) and found["end_step"] >= steps:
        found["end_step"] = None  # "until the end" (the template writes 10000)
    if found["start_step"] == 0 and "end_at_step" in settings and found["end_step"] is None:
        found["start_step"] = None
    data.update({key: value for key, value in found.items() if value is not None})
    if stage.sampled and stage.shift is None and stage.model_file:
        data["default_shift"] = True  # no shift node on the chain: the model's own default applies
    return data


def _lora_data(file: str, strength: float | None, bypassed: bool, lookup: Lookup) -> Data:
    data: Data = {}
    lora = lookup.lora_id(file)
    if lora:
        data["lora"] = lora
    data["file"] = file
    if strength is not None:
        data["strength"] = rounded(strength)
    if bypassed:
        data["bypassed"] = True
    return data


def rounded(value: Any, digits: int = 2) -> float | None:
    """A widget number to the precision the widget offers (0.01): 1.0000000000000002 -> 1.0."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(round(float(value), digits)) + 0.0  # + 0.0 turns -0.0 into 0.0


def _int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return round(value)


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def stated_task(name: str) -> str | None:
    """The Wan task a template's name states ('t2v', 'vace' …), or None."""
    lowered = name.lower()
    for token, task in (
        ("vace", "VACE"),
        ("s2v", "S2V"),
        ("flf2v", "FLF2V"),
        ("ti2v", "TI2V"),
        ("i2v", "I2V"),
        ("t2v", "T2V"),
    ):
        if token in lowered:
            return task
    return None


def _task(name: str, arch: str | None) -> str:
    """The recipe's task: as its name states it, else its model's architecture's.

    The remaining Wan templates (Animate, SCAIL, Dancer, Move …) animate a reference image: I2V, for the
    recipe only. A LoRA entry never takes this fallback: the importer gives it the task of the catalogued
    model it runs on, or a task its name or its template's name states, or refuses it.
    """
    found = stated_task(name)
    if found:
        return found
    if arch:
        return arch.split("-")[1].upper()
    return "I2V"


_FRAME_NODES = {
    "WanImageToVideo",
    "EmptyHunyuanLatentVideo",
    "Wan22ImageToVideoLatent",
    "WanFirstLastFrameToVideo",
    "WanVaceToVideo",
    "WanFunControlToVideo",
    "WanFunInpaintToVideo",
    "WanCameraImageToVideo",
}


def _frame(workflow: Workflow, reader: Reader) -> Data:
    """Width, height and frame count of the first active latent node whose values resolve to numbers."""
    for scope, node in workflow.nodes():
        if node["type"] in _FRAME_NODES and node.get("mode", 0) == 0:
            values = {
                key: reader.number(scope, node, key, i) for i, key in enumerate(("width", "height", "length"))
            }
            found = {
                "width": _int(values["width"]),
                "height": _int(values["height"]),
                "frames": _int(values["length"]),
            }
            return {key: value for key, value in found.items() if value}
    return {}
