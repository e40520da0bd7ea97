"""Snapshot size with thousands of candidates (issue 26, point 3): what the snapshot weighs when a followed folder
fills up, before (each candidate's full header facts kept) and now (one bounded line per candidate).

The candidates come through the real code: the catalog in data/, :func:`generator.hub.discover.discover` on a
listing of N new LoRA files in a followed folder, then :func:`~generator.hub.discover.with_headers` with each
file's analysed header (a Lightning-style LoRA: attention and FFN pairs, rank 64), plus a tenth as many full models at the repo's root.
Run: ``.venv/bin/python -m bench.bench_snapshot [--count 5000]``.
"""

from __future__ import annotations

import argparse
import hashlib
import time
from pathlib import Path

from generator.catalog.snapshot import Snapshot, StoredHeader, dump_snapshot, load_snapshot
from generator.catalog.validate import load_catalog
from generator.hub.discover import discover, folder_key, with_headers
from generator.hub.findings import Listing
from generator.hub.headers import NoLora, Result
from generator.lora.analyse import analyse_header
from generator.lora.parse import header_from_bytes
from tests.safetensors_factory import make_lora_header

ROOT = Path(__file__).resolve().parent.parent
REPO, FOLDER = "Kijai/WanVideo_comfy", "LoRAs/Wan22-Lightning"
T1, T2 = "2026-11-26T10:00:00Z", "2026-11-27T10:00:00Z"


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def snapshots(count: int) -> tuple[Snapshot, Snapshot]:
    """(the snapshot as the old code kept it, the snapshot now) after count candidates were read."""
    catalog = load_catalog(ROOT / "data", ROOT)
    loras = {
        f"{FOLDER}/Wan22_A14B_T2V_HIGH_Lightning_4steps_lora_{n:05}_rank64_fp16.safetensors"
        for n in range(count)
    }
    models = {f"Wan2_1-T2V-14B_{n:04}_fp8_e4m3fn_scaled_KJ.safetensors" for n in range(count // 10)}
    listing = Listing({path: (630_697_104, _sha(path)) for path in sorted(loras | models)})
    start = Snapshot(followed={folder_key(REPO, FOLDER): (), folder_key(REPO, ""): ()})
    found, _ = discover(catalog, start, {REPO: listing}, T1)
    tensors, metadata = header_from_bytes(make_lora_header("wan2.2-t2v-a14b", "comfyui", 64, "F16"))
    facts = analyse_header(tensors, metadata, "lora.safetensors")
    results: dict[str, Result] = {_sha(path): facts for path in loras}
    results |= {
        _sha(path): NoLora("no LoRA key among its 1,095 tensors: a full model, VAE or encoder")
        for path in models
    }
    now = with_headers(found, results, T2)
    old_headers: dict[str, StoredHeader] = {_sha(path): facts for path in loras | models}
    old = found.model_copy(update={"headers": {**found.headers, **old_headers}})
    return old, now


def main() -> None:
    """Print the snapshot's size before and now, per candidate, and the time to write and read it back."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=5000, help="LoRA candidates (default: 5,000)")
    args = parser.parse_args()
    old, now = snapshots(args.count)
    before, after = len(dump_snapshot(old).encode()), len(dump_snapshot(now).encode())
    started = time.perf_counter()
    path = Path("/tmp") / f"bench-snapshot-{args.count}.json"
    path.write_text(dump_snapshot(now), encoding="utf-8")
    assert load_snapshot(path) == now
    seconds = time.perf_counter() - started
    path.unlink()
    print(f"{args.count:,} LoRA candidates and {len(now.not_loras):,} full models in followed folders:")
    print(
        f"  full header facts per candidate (before): {before:>12,} bytes ({before / args.count:,.0f} a candidate)"
    )
    print(
        f"  one bounded line per candidate (now):     {after:>12,} bytes ({after / args.count:,.0f} a candidate)"
    )
    print(f"  {before / after:.1f}x smaller; written and read back in {seconds:.2f} s")


if __name__ == "__main__":
    main()
