"""Benchmark of the link check on the local Hub emulator (figures printed, no asserts).

A synthetic catalog of 1,000 files in 100 repos, 50 ms latency per request:

1. Hub API calls per distinct repo (target <= 1.2);
2. wall time of our check / a naive baseline that HEADs each file one by one with
   ``get_hf_file_metadata`` (target <= 0.1);
3. 429s when the emulator enforces a scaled-down RateLimit budget (q=60 per w=6 s), and the wall time
   against the best the budget allows (target 0 and <= 1.2x).

Run: ``.venv/bin/python -m bench.bench_check``
"""

from __future__ import annotations

import bench.hub_env  # noqa: F401 - sets the Hub switches before huggingface_hub is imported

# isort: split

import math
import os
import time
from collections.abc import Callable

from huggingface_hub import get_hf_file_metadata, hf_hub_url

from generator.catalog.models import HfLink
from generator.catalog.snapshot import Snapshot
from generator.hub.check import CheckOptions, check_links
from generator.hub.client import make_api
from generator.hub.collect import LinkRef
from tests.hub_emulator import HubEmulator

REPOS, FILES_PER_REPO, LATENCY, WORKERS = 100, 10, 0.05, 4
QUOTA, WINDOW = 60, 6.0


def scenario(emu: HubEmulator) -> list[HfLink]:
    """100 repos of 10 LoRA files each; the catalog links every file."""
    links: list[HfLink] = []
    for r in range(REPOS):
        repo = f"bench-org/lora-pack-{r:03}"
        emu.add_repo(repo)
        for f in range(FILES_PER_REPO):
            path = f"LoRAs/pack{r:03}/lora_{f:02}_rank64_bf16.safetensors"
            emu.add_lfs_file(repo, path, size=600_000_000 + f)
            links.append(HfLink(kind="file", repo=repo, path=path))
    return links


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def ours(links: list[HfLink]) -> None:
    """Our check of every link."""
    refs = [LinkRef(link, ("bench",)) for link in links]
    findings = check_links(refs, Snapshot(), CheckOptions(workers=WORKERS, progress=False))
    bad = [key for key, finding in findings.items() if finding.status != "ok"]
    if bad:
        raise SystemExit(f"unexpected statuses: {bad[:3]}")


def naive(links: list[HfLink]) -> None:
    """The baseline: one metadata HEAD per file, one after the other."""
    api = make_api()
    for link in links:
        assert link.path is not None
        get_hf_file_metadata(hf_hub_url(link.repo, link.path, endpoint=api.endpoint), token=False)


def with_emulator(**kwargs: float | int) -> HubEmulator:
    emu = HubEmulator(**kwargs).start()  # type: ignore[arg-type]
    os.environ["HF_ENDPOINT"] = emu.endpoint
    return emu


def best_time_under_budget(calls: int) -> float:
    """Fastest possible run: full windows, then the last calls at full concurrency."""
    windows = math.ceil(calls / QUOTA)
    last = calls - (windows - 1) * QUOTA
    return (windows - 1) * WINDOW + math.ceil(last / WORKERS) * LATENCY


def main() -> None:
    """Print the table."""
    emu = with_emulator(latency=LATENCY)
    links = scenario(emu)
    ours_s = timed(lambda: ours(links))
    api_calls = sum(emu.counts[route] for route in ("model_info", "paths_info", "user", "other"))
    emu.reset()
    links = scenario(emu)
    naive_s = timed(lambda: naive(links))
    emu.stop()

    limited = with_emulator(latency=LATENCY, rate_limit=QUOTA, window_seconds=WINDOW)
    links = scenario(limited)
    limited_s = timed(lambda: ours(links))
    best = best_time_under_budget(limited.counts["model_info"])
    too_many = limited.status_counts[429]
    limited.stop()

    rows = [
        ("Hub API calls per distinct repo", f"{api_calls / REPOS:.2f}", "<= 1.2"),
        (
            "wall time ours / naive HEAD per file",
            f"{ours_s:.2f} s / {naive_s:.2f} s = {ours_s / naive_s:.3f}",
            "<= 0.1",
        ),
        (f"429s under q={QUOTA} w={WINDOW:g}s", str(too_many), "0"),
        (
            "wall time / best under that budget",
            f"{limited_s:.2f} s / {best:.2f} s = {limited_s / best:.2f}",
            "<= 1.2",
        ),
    ]
    width = max(len(name) for name, _, _ in rows)
    print(f"{'measure':<{width}}  {'value':<36}  target")
    for name, value, target in rows:
        print(f"{name:<{width}}  {value:<36}  {target}")


if __name__ == "__main__":
    main()
