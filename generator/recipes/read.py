"""Read a checked workflow graph: follow node links, switches and subgraphs to the values that run.

Values stored on a node are stale when its input is linked: the link decides. A subgraph's input is the
instance's link or widget value; an instance's output is followed inside, to the node that feeds it. A
``ComfySwitchNode`` chooses between ``on_true`` and ``on_false``; switches driven by a boolean whose title
names a LoRA can be forced to one side, which gives the template's two paths (with and without the
LoRAs). Each link is resolved once per scope (memoized), so a read costs time in proportion to the
template's size. A value of the wrong kind where the reader needs a number or a file name is a fault that
names the node, never a silently missing setting.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from annotated_types import Ge, Le
from pydantic import BaseModel

from generator.catalog.recipes import Recipe, RecipeLora, RecipeStage
from generator.recipes.graph import (
    BYPASSED,
    SUBGRAPH_INPUT,
    Json,
    Scope,
    Workflow,
)
from generator.recipes.jsonfile import Fault

PRIMITIVES = {"PrimitiveInt", "PrimitiveFloat", "PrimitiveBoolean", "PrimitiveString", "PrimitiveNode"}
LORA_NODES = {"LoraLoaderModelOnly", "LoraLoader"}
MODEL_LOADERS = {"UNETLoader": 0, "UnetLoaderGGUF": 0, "CheckpointLoaderSimple": 0}
SAMPLERS = {
    # node type: widget index of steps, cfg, sampler_name, scheduler, start_at_step, end_at_step
    "KSamplerAdvanced": {
        "steps": 3,
        "cfg": 4,
        "sampler_name": 5,
        "scheduler": 6,
        "start_at_step": 7,
        "end_at_step": 8,
    },
    "KSampler": {"steps": 2, "cfg": 3, "sampler_name": 4, "scheduler": 5},
}
CUSTOM_SAMPLERS = {"SamplerCustom", "SamplerCustomAdvanced"}
"""Samplers whose settings come from other nodes: BasicScheduler (scheduler, steps), KSamplerSelect
(sampler), and the cfg on SamplerCustom itself or on the CFGGuider that SamplerCustomAdvanced takes."""
ALL_SAMPLERS = SAMPLERS.keys() | CUSTOM_SAMPLERS
INTEGERS = {"steps", "start_at_step", "end_at_step", "width", "height", "length"}


def _bounds(model: type[BaseModel], name: str) -> tuple[float, float]:
    """The lowest and highest value a recipe field accepts (its ge and le)."""
    metadata = model.model_fields[name].metadata
    low = next(float(m.ge) for m in metadata if isinstance(m, Ge) and isinstance(m.ge, int | float))
    high = next(float(m.le) for m in metadata if isinstance(m, Le) and isinstance(m.le, int | float))
    return low, high


RANGES = {
    "steps": _bounds(RecipeStage, "steps"),
    "start_at_step": _bounds(RecipeStage, "start_step"),
    "end_at_step": _bounds(RecipeStage, "end_step"),
    "cfg": _bounds(RecipeStage, "cfg"),
    "shift": _bounds(RecipeStage, "shift"),
    "strength_model": _bounds(RecipeLora, "strength"),
    "width": _bounds(Recipe, "width"),
    "height": _bounds(Recipe, "height"),
    "length": _bounds(Recipe, "frames"),
}
"""Input name -> the range of the recipe field it becomes: a template value outside it is a fault at its node
(never a recipe that would not validate, reported at a file that does not exist yet)."""
MAX_DEPTH = 200
"""Links followed in a row before the reader gives up (real templates need fewer than 20)."""


@dataclass(frozen=True)
class Output:
    """A node's output reached through a link (a model, a latent …): not a plain value."""

    scope: Scope
    node: Json


@dataclass(frozen=True)
class LoraUse:
    """A LoRA node on a model chain."""

    file: str
    strength: float | None
    bypassed: bool


@dataclass(frozen=True)
class Stage:
    """One sampler with its model chain, as read (numbers not yet rounded)."""

    model_file: str | None
    loras: tuple[LoraUse, ...]
    shift: float | None
    settings: dict[str, Any] = field(default_factory=dict)
    bypassed: bool = False
    sampled: bool = True
    """False for a stage read from a LoRA node alone, with no sampler (so no settings, no shift)."""


@dataclass
class Reader:
    """Resolves values; `lora_switch` forces the switches that a LoRA boolean drives (None: as saved)."""

    workflow: Workflow
    lora_switch: bool | None = None
    faults: list[Fault] = field(default_factory=list)
    _memo: dict[tuple[int, int], Any] = field(default_factory=dict)
    _depth: int = 0

    def value(self, scope: Scope, node: Json, name: str, index: int | None) -> Any:
        """An input's value: through its link when linked, else the node's widget value at index.

        A widget promoted to the subgraph's instance keeps its value on the instance (in its widget
        values) or, when the instance shows it through ``proxyWidgets`` and holds none, on the node itself.
        """
        for item in node.get("inputs") or []:
            if item["name"] == name and item["link"] is not None:
                found = self.follow(scope, item["link"])
                if found is not None or "widget" not in item:
                    return found
                break  # a promoted widget the instance holds no value for: the node keeps its own
        return self.stored(scope, node, index)

    def stored(self, scope: Scope, node: Json, index: int | None) -> Any:
        """The node's own widget value at index (None when it has none); a fault when its widget values are
        an object, which holds no value by position (a loader's file and strength would be silently lost)."""
        values = node.get("widgets_values")
        if index is None:
            return None
        if isinstance(values, dict):
            self.fault(scope, node, "its widgets_values are a JSON object, where a list belongs")
        if isinstance(values, list) and index < len(values):
            return values[index]
        return None

    def follow(self, scope: Scope, link_id: int) -> Any:
        """The value or output a link carries (each link of each scope is resolved once)."""
        key = (id(scope), link_id)
        if key not in self._memo:
            if self._depth >= MAX_DEPTH:
                self.fault(scope, None, f"links nest more than {MAX_DEPTH} deep")
                return None
            self._depth += 1
            self.workflow.visits += 1
            try:
                self._memo[key] = self._resolve(scope, link_id)
            finally:
                self._depth -= 1
        return self._memo[key]

    def _resolve(self, scope: Scope, link_id: int) -> Any:
        node_id, slot = scope.links[link_id]
        if node_id == SUBGRAPH_INPUT:
            return self._outer(scope, slot)
        node = scope.nodes[node_id]
        if node["type"] in PRIMITIVES:
            return self.value(scope, node, "value", 0)
        if node["type"] == "ComfySwitchNode":
            return self.value(scope, node, "on_true" if self.switched(scope, node) else "on_false", None)
        inner = self.workflow.children.get((id(scope), node_id))
        if inner is not None and slot < len(inner.graph.outputs):
            link = inner.graph.outputs[slot]
            return self.follow(inner, link) if link in inner.links else None
        return Output(scope, node)

    def switched(self, scope: Scope, node: Json) -> bool:
        """Which side a switch takes: forced when a LoRA boolean drives it, else its saved value."""
        if self.lora_switch is not None and lora_switch(scope, node):
            return self.lora_switch
        return bool(self.value(scope, node, "switch", 0))

    def _outer(self, scope: Scope, slot: int) -> Any:
        """A subgraph input's value: the instance node's link, or its widget value."""
        if scope.instance is None or scope.parent is None:
            return None
        inputs = scope.graph.inputs
        name = inputs[slot]
        outer = {item["name"]: item for item in scope.instance.get("inputs") or []}
        item = outer.get(name)
        if item is not None and item["link"] is not None:
            return self.follow(scope.parent, item["link"])
        # widget values follow the subgraph's inputs, leaving out those the instance shows as sockets
        widgets = [i for i in inputs if not (i in outer and "widget" not in outer[i])]
        values = scope.instance.get("widgets_values")
        if isinstance(values, list) and len(values) == len(widgets) and name in widgets:
            return values[widgets.index(name)]
        return None

    def fault(self, scope: Scope, node: Json | None, message: str) -> None:
        """Record a fault at a node (or at the scope's graph)."""
        if node is None:
            where = scope.graph.path
            text = f"subgraph '{scope.graph.label}': {message}" if scope.graph.key else message
        else:
            where = scope.graph.where.get(node["id"], scope.graph.path)
            text = f"{scope.graph.describe(node)}: {message}"
        found = Fault(text, where)
        if found not in self.faults:
            self.faults.append(found)

    def number(self, scope: Scope, node: Json, name: str, index: int | None) -> Any:
        """A numeric input: a fault when it holds text, a boolean or a list; None when not given."""
        found = self.value(scope, node, name, index)
        if isinstance(found, bool | str | list | dict):
            self.fault(scope, node, f"'{name}' is {_shown(found)}, where a number belongs")
            return None
        if not isinstance(found, int | float):
            return None
        if name in INTEGERS and isinstance(found, float) and not found.is_integer():
            self.fault(scope, node, f"'{name}' is {_amount(found)}, where a whole number belongs")
            return None
        low, high = RANGES.get(name, (-math.inf, math.inf))
        if not low <= found <= high:
            kind = "a whole number" if name in INTEGERS else "a number"
            self.fault(
                scope, node, f"'{name}' is {_amount(found)}, where {kind} from {low:g} to {high:g} belongs"
            )
            return None
        return found

    def text(
        self, scope: Scope, node: Json, name: str, index: int, *, stored: bool = False, required: bool = False
    ) -> str | None:
        """A text input (a file name, a sampler's name): a fault when it holds a number or a list.

        With `stored`, a link that gives no text falls back to the name the node itself stores (a loader
        whose file name comes from a node the reader does not evaluate still names its file). With
        `required`, an empty or missing value is a fault too (a LoRA loader that names no file).
        """
        found = self.value(scope, node, name, index)
        if stored and (found is None or isinstance(found, Output)):
            found = self.stored(scope, node, index)
        if isinstance(found, Output):
            return None
        if found is not None and not isinstance(found, str):
            self.fault(scope, node, f"'{name}' is {_shown(found)}, where text belongs")
            return None
        if required and not (found or "").strip() and not isinstance(node.get("widgets_values"), dict):
            state = "not given" if found is None else "empty"
            self.fault(scope, node, f"'{name}' is {state}, where a file name belongs")
        return found or None

    def model_chain(self, scope: Scope, node: Json) -> tuple[str | None, tuple[LoraUse, ...], float | None]:
        """Walk a node's model input up to the loader: (model file, LoRAs nearest the loader first, shift)."""
        bypassed = node.get("mode", 0) == BYPASSED
        return self.walk(self.value(scope, node, "model", None), bypassed=bypassed)

    def walk(
        self, current: Any, *, bypassed: bool = False
    ) -> tuple[str | None, tuple[LoraUse, ...], float | None]:
        """Walk a model output up through LoRAs, shift and switches to the loader.

        A bypassed shift node counts only on a bypassed stage (whose whole group is switched off).
        """
        loras: list[LoraUse] = []
        shift: float | None = None
        while isinstance(current, Output):
            self.workflow.visits += 1
            scope, node = current.scope, current.node
            kind = node["type"]
            if kind in MODEL_LOADERS:
                name = self.text(scope, node, "unet_name", MODEL_LOADERS[kind], stored=True)
                return name, tuple(reversed(loras)), shift
            if kind in LORA_NODES:
                file = self.text(scope, node, "lora_name", 0, stored=True, required=True) or "unknown file"
                strength = self.number(scope, node, "strength_model", 1)
                loras.append(LoraUse(file, strength, node.get("mode", 0) == BYPASSED))
            elif (
                kind == "ModelSamplingSD3" and shift is None and (bypassed or node.get("mode", 0) != BYPASSED)
            ):
                shift = self.number(scope, node, "shift", 0)
            current = self.value(scope, node, "model", None)
        return None, tuple(reversed(loras)), shift

    def stage(self, scope: Scope, node: Json) -> Stage:
        """One sampler's stage: its model chain and its settings, each through its links."""
        if node["type"] in CUSTOM_SAMPLERS:
            return self._custom_stage(scope, node)
        model_file, loras, shift = self.model_chain(scope, node)
        settings = {
            name: self.text(scope, node, name, index)
            if name in ("sampler_name", "scheduler")
            else self.number(scope, node, name, index)
            for name, index in SAMPLERS[node["type"]].items()
        }
        return Stage(model_file, loras, shift, settings, node.get("mode", 0) == BYPASSED)

    def _custom_stage(self, scope: Scope, node: Json) -> Stage:
        """A custom sampler's stage: steps and scheduler from its BasicScheduler, the sampler from its
        KSamplerSelect, cfg and model from itself (SamplerCustom) or from its CFGGuider (…Advanced)."""
        holder: tuple[Scope, Json] | None = (scope, node)
        if node["type"] == "SamplerCustomAdvanced":
            holder = self._source(scope, node, "guider", "CFGGuider")
        settings: dict[str, Any] = {}
        if holder is not None:
            settings["cfg"] = self.number(*holder, "cfg", 3 if holder[1] is node else 0)
        scheduler = self._source(scope, node, "sigmas", "BasicScheduler")
        if scheduler is not None:
            settings["scheduler"] = self.text(*scheduler, "scheduler", 0)
            settings["steps"] = self.number(*scheduler, "steps", 1)
        chooser = self._source(scope, node, "sampler", "KSamplerSelect")
        if chooser is not None:
            settings["sampler_name"] = self.text(*chooser, "sampler_name", 0)
        bypassed = node.get("mode", 0) == BYPASSED
        model = self.value(*holder, "model", None) if holder is not None else None
        model_file, loras, shift = self.walk(model, bypassed=bypassed)
        return Stage(model_file, loras, shift, settings, bypassed)

    def _source(self, scope: Scope, node: Json, name: str, kind: str) -> tuple[Scope, Json] | None:
        """The node of the given type that feeds an input (None when another kind of node does)."""
        found = self.value(scope, node, name, None)
        return (found.scope, found.node) if isinstance(found, Output) and found.node["type"] == kind else None

    def lora_stage(self, scope: Scope, node: Json) -> Stage:
        """A stage read from a LoRA node alone (templates whose sampler the reader does not know)."""
        model_file, loras, shift = self.walk(Output(scope, node))
        return Stage(model_file, loras, shift, sampled=False)


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, str):
        return f"the text '{value[:40]}'"
    return (
        f"a {'list' if isinstance(value, list) else 'JSON object' if isinstance(value, dict) else 'number'}"
    )


def _amount(value: float) -> str:
    """A number as a message shows it: a huge whole number by its digits, 1e400 as the infinity it is read as."""
    if isinstance(value, int) and abs(value) >= 10**15:
        return f"a whole number of {len(str(abs(value)))} digits"
    if not math.isfinite(value):
        return "infinite (a number too large for a float)"
    return str(value)


def lora_switch(scope: Scope, node: Json) -> bool:
    """True when a switch's `switch` input comes from a boolean whose title names a LoRA."""
    for item in node.get("inputs") or []:
        if item["name"] == "switch" and item["link"] is not None:
            origin = scope.links[item["link"]]
            source = scope.nodes.get(origin[0])
            return source is not None and "lora" in str(source.get("title", "")).lower()
    return False


def has_lora_switch(workflow: Workflow) -> bool:
    """Whether any switch of the workflow is driven by a LoRA boolean."""
    return any(
        node["type"] == "ComfySwitchNode" and lora_switch(scope, node) for scope, node in workflow.nodes()
    )
