"""Nested subgraphs cost time in proportion to the template's nodes (issue 24), counted, not timed.

The fixture nests the sampler six subgraphs deep, each level holding seven uses of the next (the shape
that made the old reader explore 7**6 scopes: 51 s for 46 kB). The reader counts the nodes it looks at;
that count must grow by the same amount per level, and every setting must still arrive from the top.
bench/bench_import.py prints the time.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

from generator.recipes.graph import MAX_SCOPES, workflow
from generator.recipes.recipe import NO_CATALOG, recipe_data
from tests.fixtures.templates import factory as f


def _read(template: f.Json) -> tuple[int, int, dict[str, Any]]:
    """(scopes, node visits, the recipe's first stage) of a template read from its JSON text."""
    graph, faults = workflow(json.loads(json.dumps(template)))
    assert graph is not None, faults
    data = recipe_data("video_wan_nested", None, graph, NO_CATALOG)
    return len(graph.scopes), graph.visits, data["lora_path"]["stages"][0]


def test_node_visits_grow_linearly_with_nesting() -> None:
    """Each level adds the same number of visits; the seven uses per level are read once."""
    visits = []
    for depth in range(1, 7):
        scopes, count, stage = _read(f.nested(depth, filler=3, fanout=7))
        assert scopes == depth + 1
        assert (stage["steps"], stage["cfg"], stage["loras"][0]["strength"]) == (4, 1.0, 1.0)
        visits.append(count)
    steps = {later - earlier for earlier, later in itertools.pairwise(visits)}
    assert len(steps) == 1, visits
    assert visits[-1] < 10 * (len(f.nested(6, 3, 7)["nodes"]) + 6 * (3 + 7))


def test_the_size_of_the_issue_fixture() -> None:
    """The six-level fixture is the 46 kB template of the issue, with 7**5 uses of its innermost level."""
    template = f.nested(6, filler=3, fanout=7)
    assert 45_000 < len(json.dumps(template, indent=1)) < 47_000
    assert f.nested_node_count(6, filler=3, fanout=7) > 7**5


def _distinct(template: f.Json) -> f.Json:
    """Each use of level 2 gets its own strength, which flows down through every level below to the LoRA."""
    for graph in template["definitions"]["subgraphs"][:1]:
        for copy, node in enumerate(n for n in graph["nodes"] if n["type"].startswith("level-")):
            strength = next(i for i in node["inputs"] if i["name"] == "strength_model")
            strength.update(link=None, widget={"name": "strength_model"})
            node["widgets_values"] = [round(0.1 * (copy + 1), 1)]
    return template


def test_uses_that_differ_are_read_apart_up_to_a_limit() -> None:
    """Uses fed different values are different scopes; past MAX_SCOPES the template is refused, quickly."""
    graph, faults = workflow(_distinct(f.nested(3, filler=0, fanout=2)))
    assert graph is not None, faults
    assert len(graph.scopes) == 1 + 1 + 2 + 2  # the two uses of level 3 inside each level 2 are alike
    data = recipe_data("video_wan_nested", None, graph, NO_CATALOG)
    assert sorted(stage["loras"][0]["strength"] for stage in data["lora_path"]["stages"]) == [0.1, 0.2]
    wide = f.nested(1, filler=0)
    wide["nodes"] += [
        f.node(1000 + i, "level-1", [f.LORA, i / 1000, 4, 1.0], **dict.fromkeys(f.PROMOTED))
        for i in range(MAX_SCOPES)
    ]
    graph, faults = workflow(wide)
    assert graph is None
    assert [fault.message for fault in faults] == [
        f"the template uses its subgraphs in more than {MAX_SCOPES} distinct ways"
    ]
