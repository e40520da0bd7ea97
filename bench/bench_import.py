"""How long `import-templates` takes on deeply nested subgraphs, and on the real package (issue 24).

The fixture nests the sampler six subgraphs deep, each level holding seven uses of the next, padded to
the 46 kB of the issue's template (which took 51 s when every use was read apart). For each depth it
prints the file's size and nodes, the nodes as instantiated, the scopes read and the node visits
counted, and the median time of reading it; then the whole import of the six-level fixture (target:
under 2 s) and of the installed package into a copy of data/.

    .venv/bin/python -m bench.bench_import [--runs N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from generator.recipes.graph import workflow
from generator.recipes.importer import import_templates, templates_at
from generator.recipes.jsonfile import parse
from generator.recipes.recipe import NO_CATALOG, recipe_data
from tests.fixtures.templates import factory

ROOT = Path(__file__).resolve().parent.parent
DAY = dt.date(2026, 11, 30)


def _median_s(action: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _read(raw: bytes) -> tuple[int, int]:
    """Parse, check and read one template: (scopes, node visits)."""
    _, value = parse(raw)
    graph, faults = workflow(value)
    assert graph is not None, faults
    recipe_data("video_wan_nested", None, graph, NO_CATALOG)
    return len(graph.scopes), graph.visits


def main() -> None:
    """Print the per-depth figures, then the two whole imports."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per figure (default: 5)")
    runs = parser.parse_args().runs
    print("depth  bytes   nodes  instantiated  scopes  visits  read (ms)")
    for depth in range(1, 7):
        template = factory.nested(depth, filler=3, fanout=7)
        raw = json.dumps(template, indent=1).encode()
        nodes = len(template["nodes"]) + sum(len(g["nodes"]) for g in template["definitions"]["subgraphs"])
        scopes, visits = _read(raw)
        seconds = _median_s(lambda raw=raw: _read(raw), runs)  # type: ignore[misc]
        instantiated = factory.nested_node_count(depth, filler=3, fanout=7)
        print(
            f"{depth:>5}  {len(raw):>6}  {nodes:>5}  {instantiated:>12,}  {scopes:>6}  {visits:>6}  {seconds * 1000:9.1f}"
        )
    with tempfile.TemporaryDirectory() as tmp:
        folder = factory.write_package(Path(tmp) / "templates", {"video_wan_nested": factory.nested(6, 3, 7)})
        project = Path(tmp) / "project"
        shutil.copytree(ROOT / "data", project / "data")
        fixture = _median_s(
            lambda: import_templates(project, DAY, templates_at(folder, "0.0.0"), allow_removals=True), runs
        )
        shutil.rmtree(project)
        shutil.copytree(ROOT / "data", project / "data")
        real = _median_s(lambda: import_templates(project, DAY), runs)
    print(f"import of the 6-level, 46 kB fixture: {fixture:.2f} s (median of {runs}; target < 2 s)")
    print(f"import of the installed package into a copy of data/: {real:.2f} s (median of {runs})")


if __name__ == "__main__":
    main()
