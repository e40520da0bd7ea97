"""The key names Kijai's ComfyUI-WanVideoWrapper gives a Wan LoRA before ComfyUI's own loader reads it.

The wrapper renames every key with ``standardize_lora_key_format`` and then hands the file to ComfyUI's
``load_lora_for_models`` (kijai/ComfyUI-WanVideoWrapper ``nodes_model_loading.py`` at commit
3317577052282dbd76e3fe3c4f72c8321d761523; the LoRA loop in ``utils.py`` of the same commit). So a key native
ComfyUI logs as "lora key not loaded" may load there: :mod:`generator.lora.comfyui` runs its loader model again on
the renamed keys to say so. The rules below are this project's reading of that function, not its code:

* ``transformer.``, ``pipe.dit.``, ``base_model.model.`` and bare ``blocks.`` / ``vace_blocks.`` become
  ``diffusion_model.``; ``.default.`` is dropped (raw PEFT adapter name); ``.diff_m`` becomes ``.modulation.diff``;
* ``lycoris_blocks_N_…`` becomes ``blocks.N.…`` where the rest uses original Wan names (``_self_attn_``,
  ``_cross_attn_``, ``_ffn_net_0_proj``, ``_ffn_net_2``, ``to_out_0``): ai-toolkit's old LoKr names load, LyCORIS
  names on the diffusers model (``attn1_to_q``) do not;
* ``lora_unet__`` (Wan-Fun) becomes ``diffusion_model.`` with ``lora_down``/``lora_up`` turned into
  ``lora_A``/``lora_B``; any other suffix gains ``.weight`` (``hada_w1_a.weight``), so LyCORIS factors and
  ``.diff`` deltas in that naming still load nowhere;
* diffusers ``attn1`` *and* ``attn2`` both become ``cross_attn`` (with ``to_q`` → ``q`` …, ``to_out.0`` → ``o``):
  self-attention keys collide with cross-attention ones, and the later key (in name order) replaces the earlier.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

_V = TypeVar("_V")

_WHOLE_PREFIXES: tuple[tuple[str, str], ...] = (
    ("transformer.", "diffusion_model."),
    ("pipe.dit.", "diffusion_model."),
    ("blocks.", "diffusion_model.blocks."),
    ("vace_blocks.", "diffusion_model.vace_blocks."),
)
_LYCORIS_PARTS: tuple[tuple[str, str], ...] = (
    ("_cross_attn_", ".cross_attn."),
    ("_self_attn_", ".self_attn."),
    ("_ffn_net_0_proj", ".ffn.0"),
    ("_ffn_net_2", ".ffn.2"),
    ("to_out_0", "o"),
)
_ATTENTION_PARTS: tuple[tuple[str, str], ...] = (
    (".to_k.", ".k."),
    (".to_q.", ".q."),
    (".to_v.", ".v."),
    (".to_out.0.", ".o."),
)
_FUN_SUFFIXES = {
    "alpha": ".alpha",
    "lora_down.weight": ".lora_A.weight",
    "lora_down": ".lora_A.weight",
    "lora_up.weight": ".lora_B.weight",
    "lora_up": ".lora_B.weight",
}
_FUN_COMPOUNDS: tuple[tuple[str, str], ...] = (
    ("_self_attn", ".self_attn"),
    ("_cross_attn", ".cross_attn"),
    ("_ffn", ".ffn"),
    ("blocks_", "blocks."),
    ("head_head", "head.head"),
    ("text_embedding", "text.embedding"),
    ("time_embedding", "time.embedding"),
    ("time_projection", "time.projection"),
)
_FUN_KEPT = frozenset({"img_emb", "self_attn", "cross_attn"})
_FUN_REJOINED: tuple[tuple[str, str], ...] = (
    ("time.projection", "time_projection"),
    ("img.emb", "img_emb"),
    ("text.emb", "text_emb"),
    ("time.emb", "time_emb"),
)


def _replace_all(text: str, pairs: tuple[tuple[str, str], ...]) -> str:
    for old, new in pairs:
        text = text.replace(old, new)
    return text


def _fun_suffix(weight_type: str | None) -> str:
    """Suffix of a renamed Wan-Fun key: LoRA halves and alpha map; anything else gains ``.weight``."""
    if weight_type is None:
        return ""
    mapped = _FUN_SUFFIXES.get(weight_type)
    if mapped is not None:
        return mapped
    suffix = "." + weight_type
    return suffix if suffix.endswith(".weight") else suffix + ".weight"


def _fun_block_path(tokens: list[str]) -> str:
    """``blocks_3_cross_attn_k_img`` tokens → ``.blocks.3.cross_attn.k_img`` (one component after the group)."""
    if not tokens or tokens[0] != "blocks" or len(tokens) < 2:
        return ""
    path, rest = f".blocks.{tokens[1]}", tokens[2:]
    if rest[:2] in (["self", "attn"], ["cross", "attn"]):
        path, rest = f"{path}.{rest[0]}_attn", rest[2:]
    elif rest[:1] == ["ffn"]:
        path, rest = f"{path}.ffn", rest[1:]
    if rest:
        component = rest[0] + ("_img" if rest[1:2] == ["img"] else "")
        path += "." + component
    return path


def _fun_other_path(main: str) -> str:
    """A non-block Wan-Fun module path: known compounds kept, every other ``_`` read as ``.``."""
    dotted = _replace_all("diffusion_model." + main, _FUN_COMPOUNDS)
    parts = [p if p in _FUN_KEPT else p.replace("_", ".") for p in dotted.split(".")]
    return ".".join(parts)


def _fun_key(name: str) -> str:
    """The wrapper's reading of a ``lora_unet__…`` key."""
    main, _, weight_type = name.partition(".")
    rest = main.removeprefix("lora_unet__")
    if "blocks_" in main:
        path = "diffusion_model" + _fun_block_path(rest.split("_"))
    else:
        path = _fun_other_path(rest)
    key = path + _fun_suffix(weight_type or None)
    return _replace_all(key, _FUN_REJOINED)


def wrapper_key(name: str) -> str:
    """The name a LoRA key has after the wrapper's renaming (see the module docstring for the rules)."""
    if name.startswith("lycoris_blocks_"):
        name = _replace_all("blocks." + name.removeprefix("lycoris_blocks_"), _LYCORIS_PARTS)
    for old, new in _WHOLE_PREFIXES:
        if name.startswith(old):
            name = new + name.removeprefix(old)
    name = name.replace(".default.", ".").replace(".diff_m", ".modulation.diff")
    name = name.replace("base_model.model.", "diffusion_model.")
    if name.startswith("lora_unet__"):
        name = _fun_key(name)
    if name.startswith("diffusion.model."):
        name = "diffusion_model." + name.removeprefix("diffusion.model.")
    for attention in (".attn1.", ".attn2."):
        if attention in name:
            return _replace_all(name.replace(attention, ".cross_attn."), _ATTENTION_PARTS)
    return name


def wrapper_rename(tensors: Mapping[str, _V]) -> dict[str, tuple[str, _V]]:
    """Renamed key → (original key, value); when two keys collide the later one in name order wins."""
    renamed: dict[str, tuple[str, _V]] = {}
    for name in sorted(tensors):
        renamed[wrapper_key(name)] = (name, tensors[name])
    return renamed
