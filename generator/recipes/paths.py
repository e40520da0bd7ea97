"""The template's two ways through: with its LoRAs and without, and which one it opens with.

A template offers the two paths in one of three ways: a switch driven by a boolean whose title names a
LoRA (read once with the switch forced on, once forced off), LoRA nodes or whole sampler groups shipped
bypassed, or LoRA nodes always on. Which path the template opens with is the boolean's saved value, read
wherever the template keeps it: as a promoted input in the subgraph instance's own widget values, on the
inner node the instance's ``proxyWidgets`` show, or on the inner node alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
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
    "The template ships its LoRA nodes bypassed: they do nothing until they are switched on in ComfyUI."
)
BYPASSED_SAMPLER_NOTE = (
    "The template ships the samplers of its LoRA path bypassed; it opens with the path without LoRAs."
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


def paths(workflow: Workflow, readers: dict[bool | None, Reader]) -> Paths:
    """Read both paths of a template."""
    samplers = [
        (scope, node)
        for scope, node in workflow.nodes()
        if node["type"] in ALL_SAMPLERS and node.get("mode", 0) != MUTED
    ]
    switch = next(iter(switches(workflow, readers[None])), None)
    notes: list[str] = []
    labels = ("with the LoRAs", "without the LoRAs")
    if switch is not None:
        active = [(s, n) for s, n in samplers if n.get("mode", 0) != BYPASSED]
        lora = _unique(readers[True].stage(s, n) for s, n in active)
        default = _unique(readers[False].stage(s, n) for s, n in active)
        opens: Opens | None = "lora_path" if switch.saved else "default_path"
        path = "the LoRA path" if switch.saved else "the path without them"
        notes.append(SWITCH_NOTE.format(title=switch.title, state="on" if switch.saved else "off", path=path))
        labels = (f"switch '{switch.title}' on", f"switch '{switch.title}' off")
    else:
        stages = _unique(readers[None].stage(s, n) for s, n in samplers)
        lora = [stage for stage in stages if stage.loras]
        default = [stage for stage in stages if not stage.loras and not stage.bypassed]
        if any(stage.bypassed for stage in lora):
            notes.append(BYPASSED_SAMPLER_NOTE)
        opens = None
    if not lora:
        lora = _lora_only(workflow, readers[None])
        notes.append(NO_SAMPLER_NOTE)
    if any(use.bypassed for stage in lora for use in stage.loras):
        notes.append(BYPASSED_LORA_NOTE)
    if opens is None:
        opens = "default_path" if _all_off(lora) else "lora_path"
    default = _ordered(default) if lora != default else []
    return Paths(_ordered(lora), default, opens if default or opens == "lora_path" else None, labels, notes)


def _all_off(stages: list[Stage]) -> bool:
    """Every stage of the path is bypassed, or every LoRA on it is: the template opens without them."""
    uses = [use for stage in stages for use in stage.loras]
    return all(stage.bypassed for stage in stages) or (bool(uses) and all(use.bypassed for use in uses))


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
