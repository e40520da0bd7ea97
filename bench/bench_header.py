"""How long the header inspector takes on the largest real LoRA header we know.

The header is the 1,749-tensor layout of Kijai's lightx2v I2V 480p rank-256 extraction (about 218 KB of
JSON), made by the test factory. Prints the median of several runs of parsing plus analysis, and of the
ComfyUI fit verdicts on every architecture, in milliseconds.

    .venv/bin/python -m bench.bench_header [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from generator.lora.analyse import analyse_header
from generator.lora.comfyui import comfyui_fits
from generator.lora.parse import header_from_bytes
from generator.vocabulary import ARCHITECTURE_IDS
from tests.safetensors_factory import make_lora_header

NAME = "lightx2v_I2V_14B_480p_cfg_step_distill_rank256_bf16.safetensors"


def _median_ms(action: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    """Build the header once, then time parsing + analysis and the verdicts."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="runs per figure (default: 7)")
    runs = parser.parse_args().runs
    header = make_lora_header("wan2.1-i2v-14b", "comfyui", 256, i2v=True, diff=True)
    tensors, metadata = header_from_bytes(header)
    facts = analyse_header(tensors, metadata, NAME)
    print(f"header: {len(header):,} bytes, {facts.tensor_count:,} tensors")
    parse_and_analyse = _median_ms(lambda: analyse_header(*header_from_bytes(header), NAME), runs)
    verdicts = _median_ms(lambda: comfyui_fits(tensors), runs)
    print(f"parse + analyse: {parse_and_analyse:.1f} ms (median of {runs})")
    print(f"verdicts on {len(ARCHITECTURE_IDS)} architectures: {verdicts:.2f} ms (median of {runs})")


if __name__ == "__main__":
    main()
