"""Benchmark of untrusted input at the default limits (figures printed; exit 1 only if a run crashed).

1. A hostile Hub combining malformed headers, malformed model-info answers and hanging tricks (issue
   10 items 2, 3, 5) against the real catalog, with the *default* limits (120 s per request, 60 s per
   server-requested wait, 30 min per run): wall time (target < 10 min), exit status (never 2), and
   whether every healthy link and header fact survived.
2. Peak RSS of `check` in its own process against a server that ignores ``Range`` on a 1 GiB file
   (target < 200 MB; it was 2.16 GB), and against a 300 MB model-info answer (it was 3.0 GB).
3. Peak RSS of `validate` on an oversized data file, a sparse 4 GB file (target < 200 MB; it was 4.2 GB).

Run: ``.venv/bin/python -m bench.bench_hostile`` (about five minutes: the tricks are waited out).
"""

from __future__ import annotations

import bench.hub_env  # noqa: F401 - sets the Hub switches before huggingface_hub is imported

# isort: split

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from generator.catalog.snapshot import facts_of, load_snapshot, unreadable_of
from generator.catalog.validate import load_catalog
from generator.hub.check import CheckOptions, check_catalog
from tests.catalog_scenario import populate
from tests.hub_emulator import Fault, Hostility, HubEmulator, make_safetensors_header

ROOT = Path(__file__).resolve().parent.parent
FUSIONX = "vrgamedevgirl84/Wan14BT2VFusioniX"
BROKEN_LORA = "fastwan-t2v-14b-480p-rank128"
SHAPE_5 = make_safetensors_header({"a": {"dtype": "BF16", "shape": 5, "data_offsets": [0, 2]}})


def project() -> Path:
    """A copy of the real data/ without a snapshot, in a temporary folder."""
    root = Path(tempfile.mkdtemp(prefix="bench-hostile-"))
    shutil.copytree(ROOT / "data", root / "data", ignore=shutil.ignore_patterns("hub-snapshot.json"))
    return root


def hostile_run(emu: HubEmulator) -> bool:
    """Item 1: the combined hostile Hub at the default limits; True when nothing was lost."""
    root = project()
    catalog = load_catalog(root / "data", root)
    populate(emu, catalog)
    options = CheckOptions(progress=False)
    check_catalog(root, hub_only=True, options=options, now=lambda: "2026-11-26T10:00:00Z")
    before = load_snapshot(root / "data" / "hub-snapshot.json")
    broken = catalog.lora(BROKEN_LORA).file
    emu.add_lfs_file(broken.repo, broken.path, size=4096, sha256="ab" * 32, header=SHAPE_5)
    emu.make_hostile(FUSIONX, Hostility(trickle_info=2.0, headers={"RateLimit": '"api";r=0;t=999999'}))
    emu.make_hostile(
        "Kijai/WanVideo_comfy_fp8_scaled",
        Hostility(info=lambda info: {k: v for k, v in info.items() if k != "siblings"}),
    )
    emu.inject("model_info", *[Fault("429", retry_after=999_999)] * 8)
    started = time.monotonic()
    outcome = check_catalog(root, hub_only=True, options=options, now=lambda: "2026-11-27T10:00:00Z")
    took = time.monotonic() - started
    after = load_snapshot(root / "data" / "hub-snapshot.json")
    statuses = [row.finding.status for row in outcome.rows]
    kept_links = all(after.links[key].status == fact.status for key, fact in before.links.items())
    others = [lora for lora in catalog.loras if lora.id != BROKEN_LORA]
    kept_facts = all(facts_of(after, lora) == facts_of(before, lora) is not None for lora in others)
    unreadable = unreadable_of(after, catalog.lora(BROKEN_LORA)) is not None
    print(f"1. hostile Hub, default limits: {took:.0f} s (target < 600 s), exit {outcome.exit_code}")
    print(f"   {statuses.count('ok')} ok, {statuses.count('unverified')} unverified of {len(statuses)} links")
    print(f"   last good link facts kept: {kept_links}; header facts kept: {kept_facts}; "
          f"malformed header stored as unreadable: {unreadable}")  # fmt: skip
    shutil.rmtree(root)
    return outcome.exit_code in (0, 1, 3) and kept_links and kept_facts and unreadable


_CHECK = """
import sys
from pathlib import Path
from generator.hub.check import CheckOptions, check_catalog
sys.exit(check_catalog(Path(sys.argv[1]), hub_only=True, options=CheckOptions(progress=False)).exit_code)
"""


def peak_rss_mb(command: list[str], env: dict[str, str] | None = None) -> tuple[int, float]:
    """Exit status and peak RSS (MB) of a child process."""
    child = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    return child.returncode, usage.ru_maxrss / 1024


def check_rss(emu: HubEmulator, hostility: Hostility, *, big_file: bool) -> tuple[int, float]:
    """Exit status and peak RSS of `check` in its own process, with the FusionX repo hostile."""
    emu.reset()
    root = project()
    catalog = load_catalog(root / "data", root)
    populate(emu, catalog)
    if big_file:
        victim = catalog.lora("fusionx-t2v-14b").file
        header = make_safetensors_header({"a": {"dtype": "BF16", "shape": [4], "data_offsets": [0, 8]}})
        emu.add_lfs_file(victim.repo, victim.path, size=2**30, header=header)
    emu.make_hostile(FUSIONX, hostility)
    env = {**os.environ, "HF_ENDPOINT": emu.endpoint}
    found = peak_rss_mb([sys.executable, "-c", _CHECK, str(root)], env)
    shutil.rmtree(root)
    return found


def range_ignored(emu: HubEmulator) -> float:
    """Item 2: `check` against a server that sends the whole 1 GiB file whatever Range asks."""
    code, rss = check_rss(emu, Hostility(ignore_range=True), big_file=True)
    print(f"2. check, 1 GiB file with Range ignored: peak RSS {rss:.0f} MB (target < 200 MB), exit {code}")
    return rss


def huge_model_info(emu: HubEmulator) -> float:
    """Item 2b: `check` against a model-info answer of 300 MB (it reached 3.0 GB)."""
    code, rss = check_rss(emu, Hostility(pad_info=300_000_000), big_file=False)
    print(f"   check, a 300 MB model-info answer: peak RSS {rss:.0f} MB (target < 200 MB), exit {code}")
    return rss


def oversized_data_file() -> float:
    """Item 3: `validate` with a sparse 4 GB data file among the LoRAs."""
    root = project()
    with (root / "data" / "loras" / "huge.yaml").open("wb") as stream:
        stream.truncate(4 * 1024**3)  # sparse: no disk used
    code, rss = peak_rss_mb([sys.executable, "-m", "generator", "--root", str(root), "validate"])
    print(
        f"3. validate, a 4 GB data file: peak RSS {rss:.0f} MB (target < 200 MB), exit {code} (1 = refused)"
    )
    shutil.rmtree(root)
    return rss


def main() -> int:
    with HubEmulator() as emu:
        os.environ["HF_ENDPOINT"] = emu.endpoint
        safe = hostile_run(emu)
        rss_check = max(range_ignored(emu), huge_model_info(emu))
    rss_validate = oversized_data_file()
    return 0 if safe and rss_check < 200 and rss_validate < 200 else 1


if __name__ == "__main__":
    sys.exit(main())
