"""Benchmark: validate + render a synthetic catalog of 10,000 LoRAs, and the real catalog.

Prints generator seconds and peak memory (RSS) per run; each size runs in a fresh process so that
peaks do not mix. Targets: 10,000 entries in <= 5 s and <= 300 MB; the real catalog in <= 0.5 s.

    .venv/bin/python -m bench.bench_render [--loras 10000]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LORA = """\
id: synthetic-{n:05d}
file:
  repo: Bench{r:03d}/Wan-LoRAs
  path: LoRAs/Family{f}/Wan22_A14B_T2V_{expert_upper}_synthetic_{n:05d}_rank{rank}_bf16.safetensors
generation: "2.2"
task: T2V
expert: {expert}
family: Family{f}
claimed:
  rank: {rank}
  precision: bf16
recommendation: listed
comment: "Synthetic entry {n} for the benchmark"
added: 2026-{month:02d}-{day:02d}
"""


def make_catalog(count: int, dest: Path) -> Path:
    """Copy the real data/ and add `count` synthetic LoRAs."""
    data = dest / "data"
    shutil.copytree(ROOT / "data", data)
    for n in range(count):
        expert = ("high", "low")[n % 2]
        text = LORA.format(
            n=n,
            r=n % 100,
            f=n % 7,
            expert=expert,
            expert_upper=expert.upper(),
            rank=(32, 64, 128, 256)[n % 4],
            month=1 + n % 12,
            day=1 + n % 28,
        )
        (data / "loras" / f"synthetic-{n:05d}.yaml").write_text(text, encoding="utf-8")
    return data


def measure(data: Path) -> dict[str, float]:
    """Run validate + render + write once in this process; return seconds and peak RSS (MB)."""
    from generator.catalog.snapshot import load_snapshot
    from generator.catalog.validate import load_catalog
    from generator.site.output import write_pages
    from generator.site.render import render_pages

    os.sync()  # flush the set-up's 10,000 fresh YAML files first, so their write-back is not timed here
    start = time.perf_counter()
    catalog = load_catalog(data, data.parent)
    loaded = time.perf_counter()
    pages = render_pages(catalog, load_snapshot(data / "hub-snapshot.json"))
    rendered = time.perf_counter()
    write_pages(data.parent / "docs", pages)
    done = time.perf_counter()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    floor = disk_floor(data.parent / "floor", pages)
    return {
        "loras": len(catalog.loras),
        "load_s": loaded - start,
        "render_s": rendered - loaded,
        "write_s": done - rendered,
        "total_s": done - start,
        "floor_s": floor,
        "peak_mb": peak_mb,
    }


def disk_floor(dest: Path, pages: dict[str, str]) -> float:
    """Seconds this disk takes to create the same files with plain writes: what write_pages cannot beat.

    Measured in the same run because file creation on a shared virtual disk varies several-fold
    from one minute to the next.
    """
    os.sync()
    start = time.perf_counter()
    for rel, text in pages.items():
        path = dest / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return time.perf_counter() - start


def run_child(data: Path) -> dict[str, float]:
    """Measure in a fresh interpreter."""
    out = subprocess.run(
        [sys.executable, __file__, "--measure", str(data)], capture_output=True, text=True, check=True
    ).stdout
    return dict(json.loads(out.splitlines()[-1]))


def main() -> None:
    """Build the synthetic catalog, measure both sizes, print a table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--loras", type=int, default=10_000)
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        real = Path(tmp) / "real"
        real.mkdir()
        shutil.copytree(ROOT / "data", real / "data")
        big = Path(tmp) / "big"
        big.mkdir()
        make_catalog(args.loras, big)
        rows = [
            ("real catalog", run_child(real / "data"), 0.5, None),
            (f"synthetic {args.loras:,}", run_child(big / "data"), 5.0, 300.0),
        ]
    print(
        f"{'catalog':<20} {'LoRAs':>7} {'load s':>8} {'render s':>9} {'write s':>8} {'total s':>8} {'peak MB':>8}  target"
        f"{'':<27}  disk floor s"
    )
    for name, r, seconds, megabytes in rows:
        target = f"<= {seconds} s" + (f", <= {megabytes:.0f} MB" if megabytes else "")
        print(
            f"{name:<20} {r['loras']:>7.0f} {r['load_s']:>8.3f} {r['render_s']:>9.3f} {r['write_s']:>8.3f} {r['total_s']:>8.3f} {r['peak_mb']:>8.1f}  {target:<33} {r['floor_s']:>7.3f}"
        )
    print(
        "disk floor: the same files created with plain writes right after, in the same process;"
        " write s above it is the generator's own cost (atomic rename, unchanged-file check)."
    )


if __name__ == "__main__":
    main()
