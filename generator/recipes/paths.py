"""The template's two ways through: with its LoRAs and without, and which one it opens with.

A template offers the two paths in one of three ways: a switch driven by a boolean whose title names a
LoRA (read once with the switch forced on, once forced off), LoRA nodes or whole sampler groups shipped
bypassed, or LoRA nodes always on. Which path the template opens with is the boolean's saved value, read
wherever the template keeps it: as a promoted input in the subgraph instance's own widget values, on the
inner node the instance's ``proxyWidgets`` show, or on the inner node alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

from generator.lora.filename import named_expert
from generator.recipes.graph import BYPASSED, MUTED, SUBGRAPH_INPUT, Json, Scope, Workflow
from generator.recipes.read import ALL_SAMPLERS, LORA_NODES, Reader, Stage, lora_switch

Opens = Literal["lora_path", "default_path"]
Form = Literal["instance widget", "proxied inner node", "inner node"]
SWITCH_NOTE = (
    "The template offers both paths behind its switch '{title}', saved {state}: it opens with {path}. "
    "The LoRA path is read with the switch on, the other with it off."
)
BYPASSED_LORA_NOTE = (
    "The template ships some LoRA nodes bypassed: they do nothing until they are switched on in ComfyUI "
    "(the LoRA path is read with them on, the other path as the template opens)."
)
LORA_GROUP_NOTE = (
    "The template ships its LoRA path as a bypassed group{group}: switching its LoRA nodes on changes "
    "nothing; the whole group has to be enabled and the other one bypassed (Ctrl + B), as its note says."
)
DEFAULT_GROUP_NOTE = (
    "The template keeps its path without LoRAs as a bypassed group{group}; it opens with the LoRA path."
)
NO_SAMPLER_NOTE = "The template samples with nodes that the importer does not read: steps, CFG and sampler are not given here."


@dataclass(frozen=True)
class Switch:
    """A LoRA switch's boolean: its title, its saved value, and where the template keeps that value."""

    title: str
    saved: bool
    form: Form


@dataclass
class Paths:
    """The stages of each path, the path the template opens with, and the notes that explain them."""

    lora: list[Stage]
    default: list[Stage]
    opens_with: Opens | None
    labels: tuple[str, str]
    notes: list[str] = field(default_factory=list)
    groups: tuple[str | None, str | None] = (None, None)
    """The title of the bypassed group that holds each path, when the template ships it so."""


def paths(workflow: Workflow, readers: dict[bool | None, Reader]) -> Paths:
    """Read both paths of a template."""
    samplers = [
        (scope, node)
        for scope, node in workflow.nodes()
        if node["type"] in ALL_SAMPLERS and node.get("mode", 0) != MUTED
    ]
    switch = next(iter(switches(workflow, readers[None])), None)
    if switch is not None:
        active = [(s, n) for s, n in samplers if n.get("mode", 0) != BYPASSED]
        lora = _unique(readers[True].stage(s, n) for s, n in active)
        default = _unique(readers[False].stage(s, n) for s, n in active)
        path = "the LoRA path" if switch.saved else "the path without them"
        note = SWITCH_NOTE.format(title=switch.title, state="on" if switch.saved else "off", path=path)
        labels = (f"switch '{switch.title}' on", f"switch '{switch.title}' off")
        found = Paths(lora, default, "lora_path" if switch.saved else "default_path", labels, [note])
    else:
        found = _unswitched(workflow, readers[None], samplers)
    if not found.lora:
        found.lora = _lora_only(workflow, readers[None])
        found.notes.append(NO_SAMPLER_NOTE)
    found.default = _ordered(found.default) if found.lora != found.default else []
    found.lora = _ordered(found.lora)
    if not found.default and found.opens_with == "default_path":
        found.opens_with = None
    return found


def _unswitched(workflow: Workflow, reader: Reader, samplers: list[tuple[Scope, Json]]) -> Paths:
    """Paths without a switch: a bypassed group for one of them, or LoRA nodes shipped bypassed."""
    read = [(reader.stage(s, n), n) for s, n in samplers]
    stages = _unique(stage for stage, _ in read)
    lora = [stage for stage in stages if stage.loras]
    lora_off = bool(lora) and all(stage.bypassed for stage in lora)
    default = [stage for stage in stages if not stage.loras and stage.bypassed != lora_off]
    if not default:
        default = [stage for stage in stages if not stage.loras and not stage.bypassed]
    default_off = bool(default) and all(stage.bypassed for stage in default)
    groups = (
        _group(workflow, [n for stage, n in read if stage in lora]) if lora_off else None,
        _group(workflow, [n for stage, n in read if stage in default]) if default_off else None,
    )
    labels = ("with the LoRAs", "without the LoRAs")
    found = Paths(lora, default, "default_path" if lora_off else "lora_path", labels, groups=groups)
    if lora_off:
        found.notes.append(LORA_GROUP_NOTE.format(group=f" ('{groups[0]}')" if groups[0] else ""))
    elif default_off:
        found.notes.append(DEFAULT_GROUP_NOTE.format(group=f" ('{groups[1]}')" if groups[1] else ""))
    elif any(use.bypassed for stage in lora for use in stage.loras):
        found.notes.append(BYPASSED_LORA_NOTE)
        if not default:  # the path as it opens: the same stages with the bypassed LoRA nodes off
            found.default = [_without_bypassed(stage) for stage in lora]
            found.opens_with = "default_path"
            found.labels = (
                "with the bypassed LoRA nodes on",
                "as the template opens, bypassed LoRA nodes off",
            )
    return found


def _without_bypassed(stage: Stage) -> Stage:
    return replace(stage, loras=tuple(use for use in stage.loras if not use.bypassed))


def _group(workflow: Workflow, nodes: list[Json]) -> str | None:
    """The title of the largest top-level group that holds all these nodes (None when none does)."""
    places = [_position(node) for node in nodes]
    if not places or any(place is None for place in places):
        return None
    if any(workflow.top.nodes.get(node["id"]) is not node for node in nodes):
        return None  # samplers inside a subgraph: the top level's groups do not hold them
    best: tuple[float, str] | None = None
    for group in workflow.raw.get("groups") or []:
        box = group.get("bounding") if isinstance(group, dict) else None
        title = group.get("title") if isinstance(group, dict) else None
        if not (isinstance(title, str) and isinstance(box, list) and len(box) == 4 and all(map(_real, box))):
            continue
        x, y, width, height = box
        inside = all(x <= p[0] <= x + width and y <= p[1] <= y + height for p in places if p is not None)
        if inside and (best is None or width * height > best[0]):
            best = (width * height, title.strip())
    return best[1] if best else None


def _position(node: Json) -> tuple[float, float] | None:
    pos = node.get("pos")
    if isinstance(pos, dict):
        pos = [pos.get("0"), pos.get("1")]
    if isinstance(pos, list) and len(pos) >= 2 and _real(pos[0]) and _real(pos[1]):
        return float(pos[0]), float(pos[1])
    return None


def _real(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == value


def switches(workflow: Workflow, reader: Reader) -> list[Switch]:
    """Every LoRA switch's boolean, with its saved value (as the reader resolves it) and where it is kept."""
    found: dict[tuple[int, int], Switch] = {}
    for scope, node in workflow.nodes():
        if node["type"] != "ComfySwitchNode" or not lora_switch(scope, node):
            continue
        link = next(i["link"] for i in node.get("inputs") or [] if i["name"] == "switch")
        boolean = scope.nodes[scope.links[link][0]]
        key = (id(scope), boolean["id"])
        if key not in found:
            saved = bool(reader.value(scope, boolean, "value", 0))
            found[key] = Switch(str(boolean.get("title")), saved, _form(workflow, scope, boolean))
    return list(found.values())


def _form(workflow: Workflow, scope: Scope, boolean: Json) -> Form:
    """Where the template keeps the boolean's saved value."""
    held = scope.instance is not None and bool(scope.instance.get("widgets_values"))
    for item in boolean.get("inputs") or []:
        linked = item["link"] is not None and scope.links[item["link"]][0] == SUBGRAPH_INPUT
        if item["name"] == "value" and linked and held:
            return "instance widget"
    for _, node in workflow.nodes():
        shown = (node.get("properties") or {}).get("proxyWidgets") or []
        if node["type"] == scope.graph.key and any(_shows(entry, boolean["id"]) for entry in shown):
            return "proxied inner node"
    return "inner node"


def _shows(entry: Any, node_id: int) -> bool:
    return isinstance(entry, list) and len(entry) == 2 and entry[0] == str(node_id) and entry[1] == "value"


def _lora_only(workflow: Workflow, reader: Reader) -> list[Stage]:
    """Stages read from the LoRA nodes' chains: per model file, the chain with the most LoRAs."""
    best: dict[str | None, Stage] = {}
    for scope, node in workflow.nodes():
        if node["type"] in LORA_NODES and node.get("mode", 0) != MUTED:
            stage = reader.lora_stage(scope, node)
            if len(stage.loras) > len(best.get(stage.model_file, Stage(None, (), None)).loras):
                best[stage.model_file] = stage
    return list(best.values())


def _unique(stages: Any) -> list[Stage]:
    found: list[Stage] = []
    for stage in stages:
        if stage not in found:
            found.append(stage)
    return found


def _ordered(stages: list[Stage]) -> list[Stage]:
    rank = {"high": 0, "low": 1}
    return sorted(
        stages,
        key=lambda s: (
            rank.get(named_expert(s.model_file) or "", 2),
            s.settings.get("start_at_step") or 0,
        ),
    )
