"""Read a ComfyUI workflow graph: follow node links, switches and subgraphs to the values that run.

A workflow holds nodes at the top level and inside ``definitions.subgraphs``; a subgraph is used by a
node whose type is the subgraph's id, and its inputs come from that node (a link, or a widget value).
Values stored on a node are stale when its input is linked: the link decides. A ``ComfySwitchNode``
chooses between ``on_true`` and ``on_false``; switches driven by a boolean whose title names a LoRA can be
forced to one side, which gives the template's two paths (with and without the LoRAs).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

Json = dict[str, Any]
SUBGRAPH_INPUT = -10
BYPASSED = 4
MUTED = 2
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


@dataclass(frozen=True, eq=False)
class Scope:
    """One graph: the top level, or one use of a subgraph (its instance node in the parent scope)."""

    graph: Json
    subgraphs: dict[str, Json]
    instance: Json | None = None
    parent: Scope | None = None

    @property
    def nodes(self) -> dict[int, Json]:
        """The graph's nodes by id."""
        return {node["id"]: node for node in self.graph.get("nodes", []) if isinstance(node, dict)}

    @property
    def links(self) -> dict[int, tuple[int, int]]:
        """Link id -> (origin node id, origin slot); links are lists at the top level, objects inside."""
        found: dict[int, tuple[int, int]] = {}
        for link in self.graph.get("links", []):
            if isinstance(link, list) and len(link) >= 3:
                found[link[0]] = (link[1], link[2])
            elif isinstance(link, dict):
                found[link["id"]] = (link["origin_id"], link["origin_slot"])
        return found

    def children(self) -> Iterator[Scope]:
        """Every use of a subgraph in this scope, and their own children, depth first."""
        for node in self.nodes.values():
            graph = self.subgraphs.get(str(node.get("type")))
            if graph is not None and node.get("mode", 0) not in (BYPASSED, MUTED):
                child = Scope(graph, self.subgraphs, node, self)
                yield child
                yield from child.children()


def scopes(workflow: Json) -> list[Scope]:
    """The top level and every subgraph use of a workflow."""
    subgraphs = {
        str(graph["id"]): graph
        for graph in (workflow.get("definitions") or {}).get("subgraphs", [])
        if isinstance(graph, dict) and "id" in graph
    }
    top = Scope(workflow, subgraphs)
    return [top, *top.children()]


@dataclass
class Reader:
    """Resolves values; `lora_switch` forces the switches that a LoRA boolean drives (None: as saved)."""

    lora_switch: bool | None = None

    def value(self, scope: Scope, node: Json, name: str, index: int | None) -> Any:
        """An input's value: through its link when linked, else the node's widget value at index."""
        for item in node.get("inputs") or []:
            if item.get("name") == name and item.get("link") is not None:
                return self.follow(scope, item["link"])
        values = node.get("widgets_values")
        if index is not None and isinstance(values, list) and index < len(values):
            return values[index]
        return None

    def follow(self, scope: Scope, link_id: int) -> Any:
        """The value or output a link carries."""
        origin = scope.links.get(link_id)
        if origin is None:
            return None
        node_id, slot = origin
        if node_id == SUBGRAPH_INPUT:
            return self._outer(scope, slot)
        node = scope.nodes.get(node_id)
        if node is None:
            return None
        if node.get("type") in PRIMITIVES:
            return self.value(scope, node, "value", 0)
        if node.get("type") == "ComfySwitchNode":
            return self.value(scope, node, "on_true" if self.switched(scope, node) else "on_false", None)
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
        inputs = scope.graph.get("inputs") or []
        if not 0 <= slot < len(inputs):
            return None
        name = inputs[slot].get("name")
        outer = {item.get("name"): item for item in scope.instance.get("inputs") or []}
        item = outer.get(name)
        if item is not None and item.get("link") is not None:
            return self.follow(scope.parent, item["link"])
        # widget values follow the subgraph's inputs, leaving out those the instance shows as sockets
        widgets = [
            i.get("name")
            for i in inputs
            if not (i.get("name") in outer and "widget" not in outer[i.get("name")])
        ]
        values = scope.instance.get("widgets_values")
        if isinstance(values, list) and len(values) == len(widgets) and name in widgets:
            return values[widgets.index(name)]
        return None

    def model_chain(self, scope: Scope, node: Json) -> tuple[str | None, tuple[LoraUse, ...], float | None]:
        """Walk a node's model input up to the loader: (model file, LoRAs nearest the loader first, shift)."""
        bypassed = node.get("mode", 0) == BYPASSED
        return self.walk(self.value(scope, node, "model", None), bypassed=bypassed)

    def file_name(self, scope: Scope, node: Json, name: str, index: int) -> str | None:
        """A file name input: through its link, else the name the node itself stores."""
        found = self.value(scope, node, name, index)
        if not isinstance(found, str):
            values = node.get("widgets_values")
            found = values[index] if isinstance(values, list) and index < len(values) else None
        return found if isinstance(found, str) and found else None

    def walk(
        self, current: Any, *, bypassed: bool = False
    ) -> tuple[str | None, tuple[LoraUse, ...], float | None]:
        """Walk a model output up through LoRAs, shift and switches to the loader.

        A bypassed shift node counts only on a bypassed stage (whose whole group is switched off).
        """
        loras: list[LoraUse] = []
        shift: float | None = None
        for _ in range(100):  # a cycle in a broken workflow ends the walk
            if not isinstance(current, Output):
                return None, tuple(reversed(loras)), shift
            scope, node = current.scope, current.node
            kind = node.get("type")
            if kind in MODEL_LOADERS:
                name = self.file_name(scope, node, "unet_name", MODEL_LOADERS[kind])
                return name, tuple(reversed(loras)), shift
            if kind in LORA_NODES:
                file = self.file_name(scope, node, "lora_name", 0) or "unknown file"
                strength = self.value(scope, node, "strength_model", 1)
                loras.append(LoraUse(file, _number(strength), node.get("mode", 0) == BYPASSED))
            elif (
                kind == "ModelSamplingSD3" and shift is None and (bypassed or node.get("mode", 0) != BYPASSED)
            ):
                shift = _number(self.value(scope, node, "shift", 0))
            current = self.value(scope, node, "model", None)
        return None, tuple(reversed(loras)), shift

    def stage(self, scope: Scope, node: Json) -> Stage:
        """One sampler's stage: its model chain and its settings, each through its links."""
        model_file, loras, shift = self.model_chain(scope, node)
        settings = {
            name: self.value(scope, node, name, index) for name, index in SAMPLERS[node["type"]].items()
        }
        return Stage(model_file, loras, shift, settings, node.get("mode", 0) == BYPASSED)

    def lora_stage(self, scope: Scope, node: Json) -> Stage:
        """A stage read from a LoRA node alone (templates whose sampler the reader does not know)."""
        model_file, loras, shift = self.walk(Output(scope, node))
        return Stage(model_file, loras, shift)


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def lora_switch(scope: Scope, node: Json) -> bool:
    """True when a switch's `switch` input comes from a boolean whose title names a LoRA."""
    for item in node.get("inputs") or []:
        if item.get("name") == "switch" and item.get("link") is not None:
            origin = scope.links.get(item["link"])
            source = scope.nodes.get(origin[0]) if origin else None
            return bool(source) and "lora" in str((source or {}).get("title", "")).lower()
    return False


def has_lora_switch(workflow: Json) -> bool:
    """Whether any switch of the workflow is driven by a LoRA boolean."""
    return any(
        node.get("type") == "ComfySwitchNode" and lora_switch(scope, node)
        for scope in scopes(workflow)
        for node in scope.nodes.values()
    )
