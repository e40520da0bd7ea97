"""A setup card's ComfyUI workflow: the official template it cites, opened on the card's path (pure).

The workflow is the template's JSON with exactly these values changed, each where the template keeps it
(found by the importer's own reader, see :mod:`generator.recipes.workflow_marks`), and nothing else:

- the LoRA switch's boolean, set on (in the instance's widget values, on the inner node that
  ``proxyWidgets`` shows, or on the inner node alone);
- where the card's path is a bypassed group: that group's nodes on (mode 0), the other group's bypassed
  (mode 4), as the template's note says (a node type the template bypasses throughout the other group,
  Fun Control's optional Canny preprocessor and its preview, stays bypassed: the two groups are twins);
- each LoRA loader of the card's stages: on, with the file name the card's download block saves it under
  and the card's strength (a loader the setup leaves empty is bypassed);
- the model loader's file name, where the setup's model differs from the template's;
- the sampler's steps and CFG and the shift, where the card's path differs from the stored values.

Values are compared at the precision the card gives them (0.01): 1.0000000000000002 stays as stored.
A template or setup that cannot be opened this way gives :class:`NoWorkflow` with the reason in words.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from generator.catalog.recipes import Recipe, RecipeLora, RecipeStage
from generator.recipes.graph import BYPASSED, MUTED, Json, Scope, Workflow, workflow
from generator.recipes.jsonfile import JsonPath
from generator.recipes.read import (
    ALL_SAMPLERS,
    LORA_NODES,
    MODEL_LOADERS,
    Output,
    Reader,
    Stage,
    has_lora_switch,
    lora_switch,
)
from generator.recipes.recipe import rounded
from generator.recipes.workflow_groups import largest_holding
from generator.recipes.workflow_marks import at, marked, place, put

ON = 0


class NoWorkflow(Exception):
    """The setup cannot be opened from its template; the reason says why, in words for the card."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class LoraTarget:
    """What one LoRA loader of the card's path loads: a file name, a strength (None: the template's)."""

    file: str
    strength: float | None = None


@dataclass(frozen=True)
class StageTarget:
    """What one stage of the card's path runs; None keeps the template's value."""

    loras: tuple[LoraTarget | None, ...]
    """One per LoRA loader of the stage, nearest the model loader first; None bypasses that loader."""
    model_file: str | None = None
    steps: int | None = None
    cfg: float | None = None
    shift: float | None = None


@dataclass(frozen=True)
class Change:
    """One value changed: where (a JSON path), from what, to what, and why."""

    path: JsonPath
    old: Any
    new: Any
    what: str


@dataclass(frozen=True)
class Built:
    """The workflow and every change made to the template."""

    workflow: Json
    changes: tuple[Change, ...]

    @property
    def text(self) -> str:
        """The workflow file's text (compact, key order kept, the same bytes on every build)."""
        return workflow_text(self.workflow)


def workflow_text(value: Json) -> str:
    """A workflow as the file the site offers: compact JSON, UTF-8 text, keys in the template's order."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False) + "\n"


def saved_name(path: str) -> str:
    """The name a download block saves a file under in its ComfyUI folder: the path's last part."""
    return path.rsplit("/", 1)[-1]


def recipe_targets(recipe: Recipe) -> tuple[StageTarget, ...]:
    """The card's own path: its LoRA files (as the download block saves them), strengths and numbers."""
    by_id = {f.lora: saved_name(f.path) for f in recipe.files if f.folder == "loras" and f.lora}
    names = {saved_name(f.path) for f in recipe.files if f.folder == "loras"}

    def target(use: RecipeLora) -> LoraTarget:
        found = by_id.get(use.lora) if use.lora else None
        found = found or (use.file if use.file in names else None)
        if found is None:
            raise NoWorkflow(f"the LoRA {use.file} is not in the card's download block")
        return LoraTarget(found, use.strength)

    return tuple(
        StageTarget(tuple(map(target, s.loras)), s.model_file, s.steps, s.cfg, s.shift)
        for s in recipe.lora_path.stages
    )


def build(template: Json, recipe: Recipe, targets: tuple[StageTarget, ...]) -> Built:
    """The template opened on the recipe's LoRA path with the targets' files and numbers."""
    graph, faults = workflow(marked(template))
    if graph is None:
        raise NoWorkflow(f"the template cannot be read ({faults[0].message})")
    reader = Reader(graph, True if has_lora_switch(graph) else None)
    plan = _Plan(template)
    stages = recipe.lora_path.stages
    if len(targets) != len(stages):
        raise NoWorkflow("the setup has a different number of stages from the template's path")
    matched = _matched(reader, graph, stages)
    for scope, node, index in matched:
        _stage(plan, reader, scope, node, targets[index])
    if reader.lora_switch:
        _switch(plan, reader, graph)
    if recipe.lora_path.group:
        _groups(plan, graph, [node for _, node, _ in matched], recipe.lora_path.group)
    if reader.faults:
        raise NoWorkflow(f"the template cannot be read ({reader.faults[0].message})")
    return Built(plan.apply(), tuple(plan.changes.values()))


@dataclass
class _Plan:
    """The changes to make, each at one JSON path; two different values for one path refuse the setup."""

    template: Json
    changes: dict[JsonPath, Change] = field(default_factory=dict)

    def mode(self, node_path: JsonPath, new: int, what: str) -> None:
        node = at(self.template, node_path)
        self._set((*node_path, "mode"), node.get("mode", ON), new, what)

    def value(self, found: Any, new: Any, what: str, same: Callable[[Any, Any], bool]) -> None:
        """Set the stored value the reader found to new, unless it already is new."""
        path = place(found)
        if path is not None and path in self.changes:
            self._set(path, at(self.template, path), new, what)
        elif not same(found, new):
            if path is None:
                raise NoWorkflow(f"the template's {what} is not a value it stores (another node gives it)")
            self._set(path, at(self.template, path), new, what)

    def _set(self, path: JsonPath, old: Any, new: Any, what: str) -> None:
        known = self.changes.get(path)
        if known is not None:
            if (known.new, type(known.new)) != (new, type(new)):
                raise NoWorkflow(f"the setup gives two values for the template's {what}")
        elif (old, type(old)) != (new, type(new)):
            self.changes[path] = Change(path, old, new, what)

    def apply(self) -> Json:
        """A copy of the template with every change made."""
        found: Json = json.loads(json.dumps(self.template))
        for change in self.changes.values():
            put(found, change.path, change.new)
        return found


def _same_text(found: Any, new: Any) -> bool:
    return isinstance(found, str) and str(found) == new


def _same_number(found: Any, new: Any) -> bool:
    return rounded(found) is not None and rounded(found) == rounded(new)


def _same_flag(found: Any, new: Any) -> bool:
    return found is not None and bool(found) == new


def _recipe_key(stage: RecipeStage) -> tuple[Any, ...]:
    return stage.model_file, tuple((u.file, u.strength, u.bypassed) for u in stage.loras)


def _stage_key(stage: Stage) -> tuple[Any, ...]:
    model = str(stage.model_file) if stage.model_file is not None else None
    return model, tuple((str(u.file), rounded(u.strength), u.bypassed) for u in stage.loras)


def _matched(
    reader: Reader, graph: Workflow, stages: tuple[RecipeStage, ...]
) -> list[tuple[Scope, Json, int]]:
    """Every sampler that runs a stage of the card's path, with that stage's index."""
    keys = [_recipe_key(stage) for stage in stages]
    if len(set(keys)) < len(keys):
        raise NoWorkflow("two stages of the card load the same model and LoRAs")
    found = []
    for scope, node in graph.nodes():
        if node["type"] in ALL_SAMPLERS and node.get("mode", ON) != MUTED:
            key = _stage_key(reader.stage(scope, node))
            if key in keys:
                found.append((scope, node, keys.index(key)))
    for index, stage in enumerate(stages):
        if all(i != index for _, _, i in found):
            where = f"the {stage.expert}-noise expert's" if stage.expert else "its"
            raise NoWorkflow(f"no sampler of the template runs {where} stage as the card reads it")
    return found


def _chain(reader: Reader, scope: Scope, node: Json) -> list[tuple[Scope, Json]]:
    """The nodes on a sampler's model input, from the sampler up to the model loader."""
    holder: tuple[Scope, Json] = (scope, node)
    if node["type"] == "SamplerCustomAdvanced":
        guider = reader.value(scope, node, "guider", None)
        if not isinstance(guider, Output):
            return []
        holder = (guider.scope, guider.node)
    current = reader.value(*holder, "model", None)
    found = []
    while isinstance(current, Output):
        found.append((current.scope, current.node))
        if current.node["type"] in MODEL_LOADERS:
            break
        current = reader.value(current.scope, current.node, "model", None)
    return found


def _stage(plan: _Plan, reader: Reader, scope: Scope, node: Json, target: StageTarget) -> None:
    """The changes one sampler's stage needs: its LoRA loaders, its model file, its numbers."""
    chain = _chain(reader, scope, node)
    loras = [(s, n) for s, n in reversed(chain) if n["type"] in LORA_NODES]
    if len(loras) != len(target.loras):
        raise NoWorkflow("the template's stage has a different number of LoRA loaders from the setup's")
    for (where, lora), wanted in zip(loras, target.loras, strict=True):
        node_path = where.graph.where[lora["id"]]
        if wanted is None:
            plan.mode(node_path, BYPASSED, "LoRA loader left empty")
            continue
        plan.mode(node_path, ON, "LoRA loader on")
        plan.value(reader.value(where, lora, "lora_name", 0), wanted.file, "LoRA file name", _same_text)
        if wanted.strength is not None:
            found = reader.value(where, lora, "strength_model", 1)
            plan.value(found, wanted.strength, "LoRA strength", _same_number)
    if target.model_file is not None:
        if not chain or chain[-1][1]["type"] not in MODEL_LOADERS:
            raise NoWorkflow("the template's stage has no model loader")
        found = reader.value(*chain[-1], "unet_name", MODEL_LOADERS[chain[-1][1]["type"]])
        plan.value(found, target.model_file, "model file name", _same_text)
    stage = reader.stage(scope, node)
    for name, wanted_number, found in (
        ("steps", target.steps, stage.settings.get("steps")),
        ("CFG", target.cfg, stage.settings.get("cfg")),
        ("shift", target.shift, stage.shift),
    ):
        if wanted_number is not None:
            plan.value(found, wanted_number, name, _same_number)


def _switch(plan: _Plan, reader: Reader, graph: Workflow) -> None:
    """Every LoRA switch's boolean on, where the template keeps its saved value."""
    for scope, node in graph.nodes():
        if node["type"] == "ComfySwitchNode" and lora_switch(scope, node):
            link = next(i["link"] for i in node.get("inputs") or [] if i["name"] == "switch")
            boolean = scope.nodes[scope.links[link][0]]
            plan.value(reader.value(scope, boolean, "value", 0), True, "LoRA switch", _same_flag)


def _groups(plan: _Plan, graph: Workflow, samplers: list[Json], title: str) -> None:
    """The card's group on and the other one bypassed (optional steps bypassed in both stay so)."""
    top = graph.top
    if any(top.nodes.get(node["id"]) is not node for node in samplers):
        raise NoWorkflow(f"the group '{title}' holds samplers inside a subgraph")
    others = [
        node
        for node in top.nodes.values()
        if node["type"] in ALL_SAMPLERS and node.get("mode", ON) == ON and node not in samplers
    ]
    card = largest_holding(graph.raw, samplers, title)
    other = largest_holding(graph.raw, others)
    if card is None or other is None or card == other:
        raise NoWorkflow(f"the template's groups do not hold the path of '{title}' apart from the other")
    in_other = [node for node in top.nodes.values() if other.holds(node)]
    optional = {n["type"] for n in in_other} - {n["type"] for n in in_other if n.get("mode") != BYPASSED}
    for node_id, node in top.nodes.items():
        if card.holds(node) and other.holds(node):
            raise NoWorkflow(f"node {node_id} is inside both of the template's groups")
        if card.holds(node) and node["type"] not in optional:
            plan.mode(top.where[node_id], ON, f"group '{card.title}' on")
        elif other.holds(node):
            plan.mode(top.where[node_id], BYPASSED, f"group '{other.title}' bypassed")
