"""The real catalog as a Hub scenario for the emulator.

Every repo, file, folder and user that data/ links to is served, with the real sizes and sha256 that
hub-api.md §12 lists where they are known, and a synthetic safetensors header that matches what each
file name and entry claim (format, rank, precision, architecture). Run it standalone to try the check:

    .venv/bin/python -m tests.catalog_scenario          # prints the HF_ENDPOINT to use, serves until Ctrl-C
    HF_ENDPOINT=http://127.0.0.1:PORT .venv/bin/python -m generator check --hub-only --dry-run
"""

from __future__ import annotations

import argparse
import functools
import time
from pathlib import Path
from typing import Any

from generator.catalog import models as m
from generator.catalog.validate import Catalog, load_catalog
from generator.hub.collect import catalog_links
from generator.lora.facts import HeaderFacts
from tests.header_analysis import analyse_bytes
from tests.hub_emulator import HubEmulator
from tests.safetensors_factory import file_size, make_lora_header

ROOT = Path(__file__).resolve().parent.parent
KIJAI = "Kijai/WanVideo_comfy"
FUSIONX = "vrgamedevgirl84/Wan14BT2VFusioniX"
# Real (size, sha256) from hub-api.md §12, where an exact LFS pointer was found and the scenario's header
# reproduces the size to the byte.
KNOWN: dict[tuple[str, str], tuple[int, str]] = {
    (
        KIJAI,
        "LoRAs/Wan22_Lightx2v/Wan_2_2_I2V_A14B_HIGH_lightx2v_MoE_distill_lora_rank_64_bf16.safetensors",
    ): (
        630_697_104,
        "0185333b558fc50ed2389b65a204e6a2cec5cf4c235ec627a3fe577cc7e9cd74",
    ),
    (KIJAI, "FastWan/FastWan_T2V_14B_480p_lora_rank_128_bf16.safetensors"): (
        1_253_192_432,
        "93fe4efb5198710843de9843091e15a4a967702f62f169135b73be51884fb7d7",
    ),
}
# FusionX's real size (316,822,496 bytes, hub-api.md §12) is left out on purpose: no public source gives
# its key layout, and the Kijai-style header this scenario invents needs 613 MB of tensors. Serving the
# real size with an invented header made the fixture snapshot show numbers that cannot be (issue 11).
DTYPES = {"bf16": "BF16", "fp16": "F16", "fp32": "F32", "fp8_e4m3": "F8_E4M3", "fp8_e5m2": "F8_E5M2"}


def architecture(lora: m.Lora) -> str:
    """The architecture a LoRA's entry says it was made for (Phantom and other tasks: the T2V base)."""
    if lora.task == "I2V":
        return "wan2.2-i2v-a14b" if lora.generation == "2.2" else "wan2.1-i2v-14b"
    return "wan2.2-t2v-a14b" if lora.generation == "2.2" else "wan2.1-t2v-14b"


def header_for(lora: m.Lora, *, rank: int | None = None, dtype: str | None = None) -> bytes:
    """A header consistent with the entry's claims (override rank or dtype to make one that contradicts)."""
    claimed = lora.claimed
    adaptive = None
    if claimed.rank == "adaptive":
        mean = claimed.average_rank or 64
        adaptive = [mean - mean // 3, mean, mean + mean // 3]
    nominal = claimed.rank if isinstance(claimed.rank, int) else 64
    arch = architecture(lora)
    return make_lora_header(
        arch,
        "comfyui",
        rank or nominal,
        dtype or DTYPES[claimed.precision or "bf16"],
        i2v=arch == "wan2.1-i2v-14b",
        diff=lora.file.repo == KIJAI,
        adaptive_ranks=adaptive,
    )


def facts_json(header: bytes, filename: str) -> dict[str, Any]:
    """The header facts the check would store for this header (JSON-ready, a fresh copy), without any Hub."""
    return _analysed(header, filename).model_dump(mode="json")


@functools.lru_cache(maxsize=128)
def _analysed(header: bytes, filename: str) -> HeaderFacts:
    """Analysing a 1,749-tensor header takes a good part of a second; tests ask for the same ones again."""
    return analyse_bytes(header, filename)


def populate(emu: HubEmulator, catalog: Catalog, headers: dict[str, bytes] | None = None) -> None:
    """Serve everything the catalog links to; `headers` overrides the header of some LoRA ids."""
    links = [link for _, link in catalog_links(catalog) if isinstance(link, m.HfLink)]
    for repo in sorted({link.repo for link in links if link.kind != "user"}):
        emu.add_repo(repo)
    served: set[tuple[str, str]] = set()
    for lora in catalog.loras:
        header = (headers or {}).get(lora.id) or header_for(lora)
        size, sha = KNOWN.get((lora.file.repo, lora.file.path), (file_size(header), None))
        for place in lora.files:  # a mirror holds the same bytes as its entry's file: the same sha256
            sha = emu.add_lfs_file(place.repo, place.path, size=size, sha256=sha, header=header)
            served.add((place.repo, place.path))
    for link in links:
        if link.kind == "file" and link.path and (link.repo, link.path) not in served:
            emu.add_small_file(link.repo, link.path, b"a model file or workflow of the scenario\n")
        elif link.kind == "folder" and link.path:
            emu.add_small_file(link.repo, f"{link.path}/README.md", b"a folder of the scenario\n")
        elif link.kind == "user":
            emu.add_user(link.repo)


def main() -> None:
    """Serve the real catalog until interrupted."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    with HubEmulator(port=args.port) as emu:
        populate(emu, load_catalog(ROOT / "data", ROOT))
        print(f"export HF_ENDPOINT={emu.endpoint}", flush=True)
        while True:
            time.sleep(3600)


if __name__ == "__main__":
    main()
