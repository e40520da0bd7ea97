"""A workflow template's graphs, checked and indexed once: nodes and links by id, subgraph uses as scopes.

A workflow holds nodes at the top level and subgraph definitions in ``definitions.subgraphs``; a node
whose type is a definition's id is a use (an instance) of that subgraph, and its inputs arrive inside
through node -10 and leave through node -20. Templates are untrusted: every shape the reader relies on is
checked here first (node ids, links that point at real nodes, no cycles, no subgraph inside itself), and
each fault names the node. Each definition is indexed once, whatever the number of its uses; uses that
receive the same inputs are read once (a subgraph is a function of its inputs), so reading costs time in
proportion to the nodes of the file, not to the product of nestings.
"""

from __future__ import annotations

import json
from collections.abc import Hashable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from generator.recipes.jsonfile import Fault, JsonPath

Json = dict[str, Any]
K = TypeVar("K", int, str)
SUBGRAPH_INPUT = -10
SUBGRAPH_OUTPUT = -20
BYPASSED = 4
MUTED = 2
MAX_SCOPES = 1000
"""Distinct subgraph uses a template may have (the real ones have at most a dozen)."""


@dataclass(eq=False)
class Graph:
    """One graph definition (the top level or a subgraph), indexed by node and link id."""

    key: str
    label: str
    path: JsonPath
    nodes: dict[int, Json] = field(default_factory=dict)
    where: dict[int, JsonPath] = field(default_factory=dict)
    links: dict[int, tuple[int, int]] = field(default_factory=dict)
    inputs: tuple[str, ...] = ()
    outputs: tuple[int | None, ...] = ()

    def describe(self, node: Json) -> str:
        """'node 4 (KSampler)', with the subgraph it is in."""
        inside = f" in subgraph '{self.label}'" if self.key else ""
        return f"node {node.get('id')} ({node.get('type')}){inside}"


@dataclass(frozen=True, eq=False)
class Scope:
    """One use of a graph: the top level, or a subgraph instance inside its parent scope."""

    graph: Graph
    instance: Json | None = None
    parent: Scope | None = None
    sources: dict[str, Hashable] = field(default_factory=dict)
    bypassed: bool = False

    @property
    def nodes(self) -> dict[int, Json]:
        """The graph's nodes by id."""
        return self.graph.nodes

    @property
    def links(self) -> dict[int, tuple[int, int]]:
        """Link id -> (origin node id, origin slot)."""
        return self.graph.links


@dataclass(eq=False)
class Workflow:
    """A checked template: its graphs, and every distinct use of them (the top level first)."""

    raw: Json
    top: Graph
    subgraphs: dict[str, Graph]
    scopes: tuple[Scope, ...]
    children: dict[tuple[int, int], Scope]
    """(id of a scope, instance node id) -> the scope that reads that use of a subgraph."""
    visits: int = 0
    """Nodes looked at so far: the measure of reading cost that the tests hold linear."""

    def nodes(self) -> Iterator[tuple[Scope, Json]]:
        """Every node of every active scope."""
        for scope in self.scopes:
            self.visits += len(scope.nodes)
            for node in scope.nodes.values():
                yield scope, node


def workflow(raw: Any) -> tuple[Workflow | None, list[Fault]]:
    """Check and index a template's JSON value; the faults name each problem (None when there are any)."""
    if not isinstance(raw, dict):
        return None, [Fault("the template is not a JSON object")]
    faults: list[Fault] = []
    top = _graph(raw, "", "the top level", (), faults)
    definitions = raw.get("definitions") or {}
    found = definitions.get("subgraphs", []) if isinstance(definitions, dict) else None
    subgraphs: dict[str, Graph] = {}
    if not isinstance(found, list):
        faults.append(Fault("definitions.subgraphs is not a list", ("definitions",)))
        found = []
    for index, item in enumerate(found):
        path: JsonPath = ("definitions", "subgraphs", index)
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            faults.append(Fault(f"subgraph #{index + 1} has no text id", path))
            continue
        label = str(item["name"]) if isinstance(item.get("name"), str) else str(item["id"])
        if item["id"] in subgraphs:
            faults.append(Fault(f"subgraph '{label}': its id is used twice", path))
        subgraphs[item["id"]] = _graph(item, item["id"], label, path, faults)
    faults += _self_containing(subgraphs)
    if faults:
        return None, faults
    scopes, children = _scopes(top, subgraphs, faults)
    return (None, faults) if faults else (Workflow(raw, top, subgraphs, scopes, children), [])


def _graph(item: Json, key: str, label: str, path: JsonPath, faults: list[Fault]) -> Graph:
    graph = Graph(key, label, path)
    inside = f"subgraph '{label}': " if key else ""
    nodes = item.get("nodes", [])
    if not isinstance(nodes, list):
        faults.append(Fault(f"{inside}'nodes' is not a list", path))
        return graph
    rejected = len(faults)
    for index, node in enumerate(nodes):
        where = (*path, "nodes", index)
        problem = _node_problem(node, index)
        if problem is None and node["id"] in graph.nodes:
            problem = f"node {node['id']} ({node['type']}): its id is used twice"
        if problem is not None:
            faults.append(Fault(inside + problem, where))
            continue
        graph.nodes[node["id"]] = node
        graph.where[node["id"]] = where
    if len(faults) > rejected:
        return graph  # links to a node that was refused would only repeat its fault
    _index_links(graph, item.get("links", []), inside, faults)
    if key:
        graph.inputs = tuple(_names(item.get("inputs"), (*path, "inputs"), inside, faults))
        graph.outputs = tuple(_output_links(item.get("outputs"), (*path, "outputs"), inside, faults))
    _check_inputs(graph, faults)
    faults += [Fault(inside + message, path) for message in _cycles(graph)]
    return graph


def _integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _node_problem(node: Any, index: int) -> str | None:
    """What makes a node unreadable, naming it by id (or by its place when it has none)."""
    if not isinstance(node, dict):
        return f"node #{index + 1} is not a JSON object"
    kind = node.get("type")
    name = f"node {node['id']} ({kind})" if _integer(node.get("id")) else f"node #{index + 1} ({kind})"
    if not _integer(node.get("id")):
        return f"{name} has no numeric id"
    if not isinstance(kind, str):
        return f"{name} has no text type"
    if "mode" in node and not _integer(node["mode"]):
        return f"{name}: its mode {node['mode']!r} is not a number"
    if not isinstance(node.get("title", ""), str):
        return f"{name}: its title is not text"
    properties = node.get("properties", {})
    if not isinstance(properties, dict):
        return f"{name}: its properties are not a JSON object"
    models = properties.get("models", [])
    if not isinstance(models, list) or not all(
        isinstance(m, dict) and all(isinstance(m.get(k, ""), str) for k in ("name", "url", "directory"))
        for m in models
    ):
        return f"{name}: properties.models must list objects with a text name, url and directory"
    if not isinstance(node.get("widgets_values", []), list | dict | None):
        return f"{name}: its widgets_values are neither a list nor an object"
    inputs = node.get("inputs") or []
    if not isinstance(inputs, list) or not all(
        isinstance(i, dict)
        and isinstance(i.get("name"), str)
        and (i.get("link") is None or _integer(i.get("link")))
        for i in inputs
    ):
        return f"{name}: each input needs a text name and a numeric link (or null)"
    return None


def _index_links(graph: Graph, links: Any, inside: str, faults: list[Fault]) -> None:
    if not isinstance(links, list):
        faults.append(Fault(f"{inside}'links' is not a list", graph.path))
        return
    for index, link in enumerate(links):
        where = (*graph.path, "links", index)
        if isinstance(link, list) and len(link) >= 3:
            found = link[0], link[1], link[2]
        elif isinstance(link, dict):
            found = link.get("id"), link.get("origin_id"), link.get("origin_slot")
        else:
            found = None, None, None
        if not all(map(_integer, found)):
            faults.append(Fault(f"{inside}link #{index + 1} is not [id, origin node, slot, …]", where))
            continue
        link_id, origin, slot = found
        if link_id in graph.links:
            faults.append(Fault(f"{inside}link {link_id}: its id is used twice", where))
        elif origin not in graph.nodes and not (graph.key and origin == SUBGRAPH_INPUT):
            faults.append(
                Fault(f"{inside}link {link_id} comes from node {origin}, which is not in the graph", where)
            )
            graph.links[link_id] = (origin, slot)  # its users are not reported again
        else:
            graph.links[link_id] = (origin, slot)


def _names(inputs: Any, path: JsonPath, inside: str, faults: list[Fault]) -> list[str]:
    if inputs is None:
        return []
    if not isinstance(inputs, list) or not all(
        isinstance(i, dict) and isinstance(i.get("name"), str) for i in inputs
    ):
        faults.append(Fault(f"{inside}each subgraph input needs a text name", path))
        return []
    return [i["name"] for i in inputs]


def _output_links(outputs: Any, path: JsonPath, inside: str, faults: list[Fault]) -> list[int | None]:
    if outputs is None:
        return []
    found: list[int | None] = []
    for index, output in enumerate(outputs if isinstance(outputs, list) else [None]):
        ids = output.get("linkIds", []) if isinstance(output, dict) else None
        if not isinstance(ids, list) or not all(map(_integer, ids)):
            faults.append(Fault(f"{inside}subgraph output #{index + 1} needs a list of link ids", path))
            return []
        found.append(ids[0] if ids else None)
    return found


def _check_inputs(graph: Graph, faults: list[Fault]) -> None:
    """Each linked input names a link of the graph; links from -10 name an input of the subgraph."""
    for node_id, node in graph.nodes.items():
        for item in node.get("inputs") or []:
            origin = graph.links.get(item["link"]) if item["link"] is not None else (0, 0)
            if origin is None:
                problem = f"takes link {item['link']}, which the graph lacks"
            elif origin[0] == SUBGRAPH_INPUT and not 0 <= origin[1] < len(graph.inputs):
                problem = f"takes subgraph input #{origin[1] + 1}, which does not exist"
            else:
                continue
            message = f"{graph.describe(node)}: input '{item['name']}' {problem}"
            faults.append(Fault(message, graph.where[node_id]))


def _cycles(graph: Graph) -> list[str]:
    """Nodes whose links lead back to themselves (a workflow ComfyUI refuses to run)."""
    origins = {
        node_id: {graph.links[i["link"]][0] for i in node.get("inputs") or [] if i["link"] in graph.links}
        & graph.nodes.keys()
        for node_id, node in graph.nodes.items()
    }
    left = _peel(origins)
    users: dict[int, set[int]] = {node_id: set() for node_id in left}
    for node_id in left:
        for origin in origins[node_id] & left:
            users[origin].add(node_id)
    left = _peel(users)
    if not left:
        return []
    shown = ", ".join(str(node_id) for node_id in sorted(left)[:8])
    return [f"the links of nodes {shown} form a cycle"]


def _peel(edges: dict[K, set[K]]) -> set[K]:
    """The nodes left after repeatedly removing those with no edge to a node still left (Kahn)."""
    count = {node: len(targets) for node, targets in edges.items()}
    back: dict[K, list[K]] = {node: [] for node in edges}
    for node, targets in edges.items():
        for target in targets:
            back[target].append(node)
    ready = [node for node, n in count.items() if n == 0]
    left = set(edges)
    while ready:
        node = ready.pop()
        left.discard(node)
        for other in back[node]:
            count[other] -= 1
            if count[other] == 0:
                ready.append(other)
    return left


def _self_containing(subgraphs: dict[str, Graph]) -> list[Fault]:
    """A subgraph that contains itself, directly or through others, would be used without end."""
    uses = {
        key: {str(node["type"]) for node in graph.nodes.values()} & subgraphs.keys()
        for key, graph in subgraphs.items()
    }
    left = _peel(uses)
    return [
        Fault(
            f"subgraph '{subgraphs[key].label}' contains itself through its subgraph nodes",
            subgraphs[key].path,
        )
        for key in sorted(left)
    ]


def _scopes(
    top: Graph, subgraphs: dict[str, Graph], faults: list[Fault]
) -> tuple[tuple[Scope, ...], dict[tuple[int, int], Scope]]:
    """Every distinct use of a subgraph, depth first in node order; uses fed the same inputs are read once."""
    found = [Scope(top)]
    seen: dict[Hashable, Scope] = {}
    children: dict[tuple[int, int], Scope] = {}
    stack = [(found[0], 0, iter(top.nodes.values()))]
    while stack:
        scope, index, nodes = stack[-1]
        node = next(nodes, None)
        if node is None:
            stack.pop()
            continue
        graph = subgraphs.get(node["type"])
        if graph is None or node.get("mode", 0) in (BYPASSED, MUTED):
            continue
        sources = _sources(scope, node, index)
        key = (graph.key, _frozen(node.get("widgets_values")), tuple(sorted(sources.items(), key=repr)))
        if key not in seen:
            seen[key] = Scope(graph, node, scope, sources)
            found.append(seen[key])
            stack.append((seen[key], len(found) - 1, iter(graph.nodes.values())))
        children[(id(scope), node["id"])] = seen[key]
        if len(found) > MAX_SCOPES:
            faults.append(Fault(f"the template uses its subgraphs in more than {MAX_SCOPES} distinct ways"))
            return (), {}
    return tuple(found), children


def _sources(scope: Scope, instance: Json, scope_index: int) -> dict[str, Hashable]:
    """Where each linked input of an instance comes from, in terms that equal uses share."""
    sources: dict[str, Hashable] = {}
    for item in instance.get("inputs") or []:
        if item["link"] is None:
            continue
        origin, slot = scope.links[item["link"]]
        if origin == SUBGRAPH_INPUT:
            sources[item["name"]] = scope.sources.get(scope.graph.inputs[slot], ("outer", scope_index, slot))
        else:
            sources[item["name"]] = ("node", scope_index, origin, slot)
    return sources


def _frozen(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)
