"""The words the whole pipeline shares, defined once: generations, tasks, experts, precisions, architectures.

Data files, header analysis, the Hub check and the pages all spell these values the same way; a new
spelling is added here and nowhere else.
"""

from __future__ import annotations

from typing import Literal, get_args
from urllib.parse import quote

HUB_URL = "https://huggingface.co"
"""The Hugging Face Hub's public address: web pages and the default API endpoint."""

Generation = Literal["2.1", "2.2"]
Task = Literal["T2V", "I2V", "TI2V", "S2V", "R2V", "FLF2V", "VACE", "T2I"]
"""Every task a catalog entry may name, as Wan names them: S2V is speech-to-video (Wan2.2-S2V-14B), R2V
reference(subject)-to-video (Phantom; VACE's name for the task), FLF2V first-last-frame-to-video."""
ArchitectureTask = Literal["T2V", "I2V", "TI2V"]
"""The tasks that have a base architecture of their own (FLF2V and VACE ride on I2V/T2V weights)."""
Expert = Literal["high", "low", "both"]
NoiseLevel = Literal["high", "low"]
SizeClass = Literal["1.3B", "5B", "14B"]
Precision = Literal["bf16", "fp16", "fp32", "fp8_e4m3", "fp8_e5m2", "gguf"]
"""Precision as the catalog spells it."""
ArchitectureId = Literal[
    "wan2.1-t2v-1.3b",
    "wan2.1-t2v-14b",
    "wan2.1-i2v-14b",
    "wan2.2-t2v-a14b",
    "wan2.2-i2v-a14b",
    "wan2.2-ti2v-5b",
]
ARCHITECTURE_IDS: tuple[ArchitectureId, ...] = get_args(ArchitectureId)
"""Every supported architecture id, in the catalog's order."""

HEADER_PRECISION: dict[Precision, str] = {
    "fp32": "fp32",
    "bf16": "bf16",
    "fp16": "fp16",
    "fp8_e4m3": "fp8_e4m3fn",
    "fp8_e5m2": "fp8_e5m2",
}
"""Each catalog precision as file names and the header analysis spell it (ComfyUI's ``fp8_e4m3fn``); gguf is
no safetensors dtype. The one map between the two spellings."""
CATALOG_PRECISION: dict[str, Precision] = {name: precision for precision, name in HEADER_PRECISION.items()}
"""A precision as a file name or a header states it, in the catalog's spelling (``fp8`` alone names none)."""


def hub_download_url(repo: str, path: str) -> str:
    """The address that downloads a file of a Hub repo's main branch itself (not its page): the one place
    where the download URL is built, for the pages' links, the curl commands and the recipes' blocks."""
    return f"{HUB_URL}/{repo}/resolve/main/{quote(path)}?download=true"
