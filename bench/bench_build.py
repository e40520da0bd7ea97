"""Benchmark: wall time of ``python -m generator build`` against ``mkdocs build`` on the real catalog.

Both run as subprocesses on a scratch copy of the project (data/, static docs/, mkdocs.yml and a
symlink to generator/, as the tests make it), so the working tree's docs/ and site/ are never touched.
After one untimed warm-up of each, they alternate in pairs (build, mkdocs, build, mkdocs, ...) so that
a slow minute on a shared machine hits both alike. Printed: every time, the median of each, and
median(build) / median(mkdocs) against the target <= 0.5. Start-up counts: for a catalog this size the
generator's time is mostly the interpreter and its imports.

In the same run, ``python -X importtime`` shows which modules ``build`` and ``validate`` load: the
network edge (huggingface_hub, httpx2, requests, urllib3, tqdm, stamina, watchfiles) must not be among
them. The exit status is 0 whether or not the ratio meets its target (this is a measurement), and 1 if a
command fails or if either stage loads the network edge (a hard rule of the project).

    .venv/bin/python -m bench.bench_build [--pairs 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.sitebuild import make_project

BIN = Path(sys.executable).parent
TARGET = 0.5
NETWORK_EDGE = ("huggingface_hub", "httpx2", "requests", "urllib3", "tqdm", "stamina", "watchfiles")
ENV = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}


class CommandFailed(Exception):
    """A measured command exited with a non-zero status."""


def run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run a command to completion; raise CommandFailed with its output if it fails."""
    result = subprocess.run(command, cwd=cwd, env=ENV, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise CommandFailed(
            f"{' '.join(command)} exited with {result.returncode}\n{result.stdout}{result.stderr}"
        )
    return result


def timed(command: list[str], cwd: Path) -> float:
    """Wall seconds of one run of the command."""
    start = time.perf_counter()
    run(command, cwd)
    return time.perf_counter() - start


def imported_modules(stderr: str) -> tuple[set[str], float]:
    """The modules named in ``-X importtime`` output, and the total import time in seconds.

    Each line reads ``import time: self | cumulative | <indent>module``; the total is the sum of the
    cumulative times of the outermost (least indented) imports.
    """
    modules: set[str] = set()
    total_us = 0
    for line in stderr.splitlines():
        if not line.startswith("import time:"):
            continue
        fields = line.removeprefix("import time:").split("|")
        if len(fields) != 3 or not fields[1].strip().isdigit():
            continue  # the header line
        name = fields[2]
        modules.add(name.strip())
        if len(name) - len(name.lstrip()) == 1:
            total_us += int(fields[1])
    return modules, total_us / 1e6


def network_edge(modules: set[str]) -> list[str]:
    """The network-edge packages among the modules (matched on the top-level package name)."""
    loaded = {name.split(".")[0] for name in modules}
    return [package for package in NETWORK_EDGE if package in loaded]


def measure(project: Path, pairs: int) -> int:
    """Print the timings and the import check; return the exit status."""
    build = [sys.executable, "-m", "generator", "build"]
    mkdocs = [str(BIN / "mkdocs"), "build", "--strict", "--quiet", "--site-dir", str(project / "site")]
    timed(build, project)  # warm-up: writes the generated pages once, fills the bytecode caches
    timed(mkdocs, project)
    build_s: list[float] = []
    mkdocs_s: list[float] = []
    for _ in range(pairs):
        build_s.append(timed(build, project))
        mkdocs_s.append(timed(mkdocs, project))

    print(f"{'command':<36} {'runs (s)':<{7 * pairs}} {'median s':>8}")
    for name, times in (("python -m generator build", build_s), ("mkdocs build --strict", mkdocs_s)):
        runs = " ".join(f"{t:6.3f}" for t in times)
        print(f"{name:<36} {runs:<{7 * pairs}} {statistics.median(times):>8.3f}")
    ratio = statistics.median(build_s) / statistics.median(mkdocs_s)
    print(f"ratio median(build) / median(mkdocs): {ratio:.3f}")
    print(f"target {TARGET}: {'met' if ratio <= TARGET else 'not met'}")

    status = 0
    for stage in ("build", "validate"):
        stderr = run([sys.executable, "-X", "importtime", "-m", "generator", stage], project).stderr
        modules, import_s = imported_modules(stderr)
        edge = network_edge(modules)
        print(
            f"network edge imported by {stage}: {', '.join(edge) if edge else 'none'}"
            f"  ({len(modules)} modules, {import_s:.3f} s of imports)"
        )
        if edge:
            status = 1
    return status


def main() -> None:
    """Make the scratch project, measure, print; exit 1 on a failed command or a network import."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=5, help="timed build/mkdocs pairs (default: 5)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-build-") as tmp:
        project = make_project(Path(tmp))
        try:
            status = measure(project, args.pairs)
        except CommandFailed as err:
            print(err, file=sys.stderr)
            status = 1
    sys.exit(status)


if __name__ == "__main__":
    main()
