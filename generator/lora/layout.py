"""Which key layout a LoRA uses, and which tool wrote it when the metadata says so.

A layout is named by what the keys show (prefix, suffixes, alpha and full-delta tensors), with the tools known to
write it; one tool is named only when the metadata identifies it. The ``diffusion_model.`` + ``lora_A``/``lora_B``
layout without alpha is written alike by tdrussell/diffusion-pipe (``models/wan/wan.py`` ``save_adapter``),
kohya-ss/musubi-tuner's converter (``src/musubi_tuner/convert_lora.py --target other``, which folds alpha into the
weights and copies the old ``ss_*`` metadata) and ostris/ai-toolkit (``toolkit/models/wan21/wan_lora_convert.py``
``convert_to_original``, metadata ``software`` naming ``ai-toolkit``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

from generator.lora.facts import KeyFormat, Role, SuffixFamily
from generator.lora.keys import Key, key_prefix
from generator.lora.measure import metadata_json

_NETWORK_MODULES = {
    "networks.lora_wan": "musubi-tuner",
    "networks.loha": "musubi-tuner (LoHa)",
    "networks.lokr": "musubi-tuner (LoKr)",
    "lycoris.kohya": "a kohya-style trainer with LyCORIS (lycoris.kohya)",
    "networks.lora": "kohya sd-scripts",
}
"""``ss_network_module`` values (kohya-ss/musubi-tuner ``training/trainer_base.py`` writes ``--network_module``)."""

_PREFIX_LABELS = {
    "model.diffusion_model.": "model.diffusion_model.*",
    "diffusion_model.": "diffusion_model.*",
    "lora_unet__": "lora_unet__*",
    "lora_unet_": "lora_unet_*",
    "transformer.": "transformer.*",
    "base_model.model.": "base_model.model.*",
    "pipe.dit.": "pipe.dit.*",
    "lycoris_": "lycoris_*",
    "": "bare module names",
}
_SUFFIX_LABELS: dict[SuffixFamily, str] = {
    "lora_down/lora_up": "lora_down/lora_up",
    "lora_A/lora_B": "lora_A/lora_B",
    "lora_A/lora_B.default": "lora_A/lora_B.default",
    "legacy": "older LoRA suffixes",
    "stand-in": "Stand-In _loras.down/up",
    "lycoris": "LyCORIS factors",
    "none": "full deltas only (.diff/.diff_b)",
    "mixed": "mixed suffixes",
}
_KNOWN_WRITERS: dict[KeyFormat, str] = {
    "comfyui-peft": "diffusion-pipe, musubi-tuner's convert_lora.py --target other, or ai-toolkit",
    "kohya": "kohya-style trainers such as musubi-tuner",
    "videox-fun": "VideoX-Fun",
    "diffusers": "diffusers / PEFT trainers",
    "peft-other": "raw PEFT, DiffSynth or others",
}


def metadata_writer(metadata: Mapping[str, str]) -> str | None:
    """The tool the metadata names (``ss_network_module``, ai-toolkit's ``software``), else ``None``."""
    module = metadata.get("ss_network_module")
    if module is not None:
        return _NETWORK_MODULES.get(module.strip(), "a kohya-style trainer (ss_network_module)")
    if metadata_json(metadata, "software").get("name") == "ai-toolkit":
        return "ai-toolkit"
    return None


_CONVERTED_PREFIXES = frozenset({"diffusion_model.", "model.diffusion_model.", "transformer."})
"""musubi-tuner itself writes ``lora_unet_``; its keys under these prefixes went through its converter."""


def describe_layout(
    key_format: KeyFormat, suffix_family: SuffixFamily, keys: list[Key], metadata: Mapping[str, str]
) -> tuple[str, str | None]:
    """``(layout, writer)``: one line naming prefix, suffixes, alpha and full deltas with the tools that write that
    layout, and the one tool the metadata names (``None`` when it names none)."""
    recognised = [k for k in keys if k.module is not None]
    prefixes = Counter(key_prefix(k.name) for k in recognised)
    prefix = max(sorted(prefixes), key=lambda p: prefixes[p]) if prefixes else ""
    writer = metadata_writer(metadata)
    if writer is not None and writer.startswith("musubi-tuner") and prefix in _CONVERTED_PREFIXES:
        writer += ", converted by convert_lora.py --target other (its ss_* metadata kept)"
    if key_format == "unknown":
        return "no Wan key layout recognised", writer
    if key_format == "mixed":
        return "mixed layouts: " + ", ".join(_PREFIX_LABELS[p] for p in sorted(prefixes)), writer
    if key_format == "lycoris":
        return f"{_PREFIX_LABELS[prefix]} {_lycoris_algorithms(recognised)}", writer
    roles = {k.role for k in recognised}
    parts = [
        f"{_PREFIX_LABELS[prefix]} {_SUFFIX_LABELS[suffix_family]}",
        "with alpha tensors" if "alpha" in roles else "no alpha tensors",
    ]
    if roles & {"diff", "diff_b"} and suffix_family != "none":
        parts.append("with .diff/.diff_b full deltas")
    writers = _KNOWN_WRITERS.get(key_format) or _comfyui_writers(roles, suffix_family)
    return f"{', '.join(parts)} ({writers})", writer


def _comfyui_writers(roles: set[Role | None], suffix_family: SuffixFamily) -> str:
    """Writers of the ComfyUI ``lora_down``/``lora_up`` layout, narrowed by alpha and full-delta tensors."""
    if suffix_family not in ("lora_down/lora_up", "none"):
        return "ComfyUI module names"
    if "alpha" in roles:
        return "ComfyUI layout with alpha tensors, as Lightning writes it"
    if roles & {"diff", "diff_b"}:
        return "ComfyUI layout: Kijai (KJNodes) or LightX2V extraction"
    return "ComfyUI layout"


def _lycoris_algorithms(keys: list[Key]) -> str:
    """``LyCORIS LoHa (hada_*)``, ``LyCORIS LoKr (lokr_*)`` or both."""
    parts = {k.part for k in keys if k.part is not None}
    found = [
        label
        for label, prefix in (("LoHa (hada_*)", "hada_"), ("LoKr (lokr_*)", "lokr_"))
        if any(p.startswith(prefix) for p in parts)
    ]
    return "LyCORIS " + " and ".join(found or ["factors"])
