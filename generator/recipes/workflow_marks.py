"""Where a template keeps each value: every stored widget value carries its JSON path.

A template keeps a setting in one of several places: on the node itself, on the subgraph instance that
promotes it (the instance's ``widgets_values``), on a primitive node that feeds it, or on the side of a
switch that is taken. Which place counts is what the importer's reader (:mod:`generator.recipes.read`)
decides when it reads a recipe. To change a value where it counts, without a second resolver that could
drift from the first, every scalar widget value of a copy of the template is replaced by a marked twin of
its type (``str``, ``int``, ``float``) that remembers its JSON path: the reader, run unchanged on that copy,
hands back marked values, and each mark says where its value lives. Booleans are marked as ints (Python
cannot subclass ``bool``); the reader only asks for their truth.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from generator.recipes.graph import Json
from generator.recipes.jsonfile import JsonPath


class Marked:
    """Mixed into a twin of a widget value's type: the JSON path the value is stored at."""

    path: JsonPath


class MarkedStr(Marked, str):
    """A text widget value and its JSON path."""


class MarkedInt(Marked, int):
    """A whole-number (or boolean) widget value and its JSON path."""


class MarkedFloat(Marked, float):
    """A decimal widget value and its JSON path."""


_TWINS: tuple[tuple[type, Callable[[Any], Marked]], ...] = (
    (str, MarkedStr),
    (int, MarkedInt),  # a bool is an int: marked as 0 or 1, whose truth is all the reader asks
    (float, MarkedFloat),
)


def marked(template: Json) -> Json:
    """A deep copy of the template whose scalar widget values are marked with their JSON paths.

    Nodes are looked for where a workflow keeps them (the top level's ``nodes`` and each subgraph's);
    anything of another shape is copied as it is, for the graph checks to judge.
    """
    found: Json = json.loads(json.dumps(template))  # a deep copy, several times faster than copy's
    graphs: list[tuple[JsonPath, Any]] = [((), found)]
    definitions = found.get("definitions")
    subgraphs = definitions.get("subgraphs") if isinstance(definitions, dict) else None
    if isinstance(subgraphs, list):
        graphs += [(("definitions", "subgraphs", index), item) for index, item in enumerate(subgraphs)]
    for path, graph in graphs:
        nodes = graph.get("nodes") if isinstance(graph, dict) else None
        for index, node in enumerate(nodes if isinstance(nodes, list) else []):
            values = node.get("widgets_values") if isinstance(node, dict) else None
            if isinstance(values, list):
                where = (*path, "nodes", index, "widgets_values")
                node["widgets_values"] = [_mark(value, (*where, i)) for i, value in enumerate(values)]
    return found


def _mark(value: Any, path: JsonPath) -> Any:
    for kind, twin in _TWINS:
        if isinstance(value, kind):
            made = twin(value)
            made.path = path
            return made
    return value


def place(value: Any) -> JsonPath | None:
    """The JSON path a value read from a marked template was stored at (None: not a stored value)."""
    return value.path if isinstance(value, Marked) else None


def at(template: Json, path: JsonPath) -> Any:
    """The value at a JSON path of a template."""
    found: Any = template
    for part in path:
        found = found[part]
    return found


def put(template: Json, path: JsonPath, value: Any) -> None:
    """Set the value at a JSON path of a template (its parent must exist)."""
    at(template, path[:-1])[path[-1]] = value
