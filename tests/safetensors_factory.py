"""Synthetic safetensors headers for Wan LoRAs, in every key format of wan-lora-format.md §4.

The bytes are what a real file starts with: u64le ``N``, then ``N`` bytes of compact JSON padded with spaces to a
multiple of 8, with ``data_offsets`` laid out in the serializer's order (dtype descending, then name). Nothing
after the header is produced; :func:`file_size` gives the size the whole file would have, so an emulator can serve
a header-only file with its true declared size.

:func:`make_lora_header` builds its shapes from :func:`~generator.lora.architectures.expected_shape`, the table the
inspector judges against; :func:`load_key_list` and :func:`fixture_header` read the independent key lists of
``tests/fixtures/headers/``, transcribed from the writers' public code.
"""

from __future__ import annotations

import json
import math
import re
import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from generator.lora.architectures import Architecture, expected_shape, get_architecture

Fmt = Literal["comfyui", "diffusion-pipe", "kohya", "videox-fun", "diffusers", "peft-other"]
TensorTable = dict[str, tuple[str, tuple[int, ...]]]
"""Tensor name → (safetensors dtype, shape)."""
TensorInput = Mapping[str, tuple[str, Sequence[int]]]
"""What callers may pass: any mapping of name → (dtype, shape)."""

_DTYPE_BYTES = {"F64": 8, "F32": 4, "BF16": 2, "F16": 2, "F8_E4M3": 1, "F8_E5M2": 1, "I8": 1, "U8": 1}
_DTYPE_ORDER = ("F8_E5M2", "F8_E4M3", "F16", "BF16", "F32", "F64")
"""Ascending serializer order; data is written in descending order (safetensors ``prepare``)."""


# ------------------------------------------------------------------------------------- serializer


def _data_order(tensors: TensorInput) -> list[str]:
    """Names in data-area order: dtype descending, then name."""
    return sorted(tensors, key=lambda n: (-_DTYPE_ORDER.index(tensors[n][0]), n))


def serialize_header(tensors: TensorInput, metadata: Mapping[str, str] | None = None) -> bytes:
    """Header bytes (length prefix + padded JSON) for these tensors, as the safetensors serializer writes them."""
    body: dict[str, object] = {}
    if metadata is not None:
        body["__metadata__"] = dict(metadata)
    offset = 0
    for name in _data_order(tensors):
        dtype, shape = tensors[name]
        end = offset + math.prod(shape) * _DTYPE_BYTES[dtype]
        body[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, end]}
        offset = end
    text = json.dumps(body, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text


def _header_json(header: bytes) -> dict[str, dict[str, object]]:
    (size,) = struct.unpack("<Q", header[:8])
    parsed: dict[str, dict[str, object]] = json.loads(header[8 : 8 + size])
    return parsed


def payload_size(header: bytes) -> int:
    """Bytes of tensor data after the header: the largest ``data_offsets`` end (0 for a broken header)."""
    try:
        ends = [_end(entry) for name, entry in _header_json(header).items() if name != "__metadata__"]
    except (ValueError, TypeError, AttributeError, KeyError, IndexError, AssertionError, RecursionError):
        return 0  # tests serve malformed headers on purpose
    return max(ends, default=0)


def _end(entry: dict[str, object]) -> int:
    offsets = entry["data_offsets"]
    assert isinstance(offsets, list)
    return int(offsets[1])


def file_size(header: bytes) -> int:
    """Size of the whole file: ``8 + N + payload``."""
    return len(header) + payload_size(header)


# ------------------------------------------------------------------------------------ key writers

_ROLE_SUFFIX: dict[str, dict[str, str]] = {
    "down/up": {
        "down": "lora_down.weight",
        "up": "lora_up.weight",
        "alpha": "alpha",
        "diff": "diff",
        "diff_b": "diff_b",
    },
    "A/B": {
        "down": "lora_A.weight",
        "up": "lora_B.weight",
        "alpha": "alpha",
        "diff": "diff",
        "diff_b": "diff_b",
    },
    "diffusers": {"down": "lora_A.weight", "up": "lora_B.weight", "diff_b": "lora_B.bias"},
}

_DIFFUSERS_NAMES = {
    **{f"self_attn.{p}": f"attn1.to_{p}" for p in "qkv"},
    **{f"cross_attn.{p}": f"attn2.to_{p}" for p in "qkv"},
    "self_attn.o": "attn1.to_out.0",
    "cross_attn.o": "attn2.to_out.0",
    "cross_attn.k_img": "attn2.add_k_proj",
    "cross_attn.v_img": "attn2.add_v_proj",
    "ffn.0": "ffn.net.0.proj",
    "ffn.2": "ffn.net.2",
    "text_embedding.0": "condition_embedder.text_embedder.linear_1",
    "time_projection.1": "condition_embedder.time_proj",
    "head.head": "proj_out",
}
"""Writer-side diffusers spelling of the modules the factory emits in that format."""


def _diffusers_path(module: str) -> str:
    head, _, rest = module.partition(".")
    if head == "blocks":
        index, _, local = rest.partition(".")
        return f"blocks.{index}.{_DIFFUSERS_NAMES[local]}"
    return _DIFFUSERS_NAMES[module]


def key_name(fmt: Fmt, module: str, role: str) -> str:
    """The key a writer of ``fmt`` uses for ``role`` (down/up/alpha/diff/diff_b) of a canonical module."""
    if fmt in ("comfyui", "diffusion-pipe"):
        return f"diffusion_model.{module}.{_ROLE_SUFFIX['down/up' if fmt == 'comfyui' else 'A/B'][role]}"
    if fmt in ("kohya", "videox-fun"):
        prefix = "lora_unet_" if fmt == "kohya" else "lora_unet__"
        return f"{prefix}{module.replace('.', '_')}.{_ROLE_SUFFIX['down/up'][role]}"
    if fmt == "diffusers":
        return f"transformer.{_diffusers_path(module)}.{_ROLE_SUFFIX['diffusers'][role]}"
    return f"base_model.model.{module}.{_ROLE_SUFFIX['A/B'][role]}"


# ----------------------------------------------------------------------------------- module lists

_ATTN = tuple(f"{a}.{p}" for a in ("self_attn", "cross_attn") for p in "qkvo")
_IMG = ("cross_attn.k_img", "cross_attn.v_img")
_NORMS = ("self_attn.norm_q", "self_attn.norm_k", "cross_attn.norm_q", "cross_attn.norm_k")
_TOP_LINEARS = (
    "text_embedding.0",
    "text_embedding.2",
    "time_embedding.0",
    "time_embedding.2",
    "time_projection.1",
)


def block_linears(i2v: bool) -> tuple[str, ...]:
    """Block-local Linear modules a LoRA trains: attention (+ the CLIP branch) and FFN."""
    return (*_ATTN, *(_IMG if i2v else ()), "ffn.0", "ffn.2")


def _layout(blocks: Iterable[int], i2v: bool, kijai: bool) -> tuple[list[str], list[str]]:
    """``(LoRA-pair modules, full-delta norm modules)``; Kijai extractions add top-level linears and norms."""
    pairs = [f"blocks.{b}.{m}" for b in blocks for m in block_linears(i2v)]
    if not kijai:
        return pairs, []
    norms = [*_NORMS, *(("cross_attn.norm_k_img",) if i2v else ()), "norm3"]
    diffs = [f"blocks.{b}.{n}" for b in blocks for n in norms]
    pairs += [*_TOP_LINEARS, "head.head", *(("img_emb.proj.1", "img_emb.proj.3") if i2v else ())]
    diffs += ["img_emb.proj.0", "img_emb.proj.4"] if i2v else []
    return pairs, diffs


def _shape(arch: Architecture, module: str) -> tuple[tuple[int, ...], tuple[int, ...] | None]:
    shape = expected_shape(arch, module)
    assert shape is not None, f"{module} does not exist on {arch.id}"
    return shape.weight, shape.bias


# ------------------------------------------------------------------------------------- LoRA tensors


def _pair_tensors(fmt: Fmt, module: str, weight: tuple[int, ...], rank: int, dtype: str) -> TensorTable:
    """down ``[r, in]`` and up ``[out, r]``, with ``r`` capped at ``min(out, in)`` as extractors do."""
    out, inp = weight[0], math.prod(weight[1:])
    r = min(rank, out, inp)
    return {key_name(fmt, module, "down"): (dtype, (r, inp)), key_name(fmt, module, "up"): (dtype, (out, r))}


def lora_tensors(
    arch_id: str,
    fmt: Fmt,
    rank: int,
    dtype: str,
    *,
    alpha_dtype: str | None = None,
    i2v: bool = False,
    diff: bool = False,
    blocks: Sequence[int] | None = None,
    adaptive_ranks: Sequence[int] | None = None,
) -> TensorTable:
    """Tensor table of a LoRA; see :func:`make_lora_header` for the parameters."""
    arch = get_architecture(arch_id)
    pairs, norms = _layout(range(arch.layers) if blocks is None else blocks, i2v, diff)
    tensors: TensorTable = {}
    for index, module in enumerate(pairs):
        weight, bias = _shape(arch, module)
        r = adaptive_ranks[index % len(adaptive_ranks)] if adaptive_ranks else rank
        tensors.update(_pair_tensors(fmt, module, weight, r, dtype))
        if alpha_dtype is not None:
            tensors[key_name(fmt, module, "alpha")] = (alpha_dtype, ())
        if diff and bias is not None:
            tensors[key_name(fmt, module, "diff_b")] = (dtype, bias)
    for module in norms:
        weight, bias = _shape(arch, module)
        tensors[key_name(fmt, module, "diff")] = (dtype, weight)
        if bias is not None:
            tensors[key_name(fmt, module, "diff_b")] = (dtype, bias)
    if diff:
        tensors[key_name(fmt, "patch_embedding", "diff_b")] = (dtype, (arch.dim,))
    return tensors


def make_lora_header(
    arch: str = "wan2.1-t2v-14b",
    fmt: Fmt = "comfyui",
    rank: int = 64,
    dtype: str = "BF16",
    *,
    alpha: bool = False,
    alpha_dtype: str | None = None,
    i2v: bool = False,
    diff: bool = False,
    metadata: Mapping[str, str] | None = None,
    blocks: Sequence[int] | None = None,
    adaptive_ranks: Sequence[int] | None = None,
    extra: TensorInput | None = None,
) -> bytes:
    """Header bytes of a synthetic Wan LoRA.

    ``diff=False`` gives the blocks-only layout (attention + FFN pairs, as musubi-tuner, diffusion-pipe and
    Lightning write); ``diff=True`` the Kijai extraction layout (plus top-level linears, norm ``.diff``, bias
    ``.diff_b`` and ``patch_embedding.diff_b``). ``i2v`` adds the Wan 2.1 CLIP branch, ``alpha`` one scalar per
    pair (in ``alpha_dtype``, default ``dtype``), ``blocks`` restricts the block indices, ``adaptive_ranks``
    cycles per-module ranks and ``extra`` adds or replaces raw tensors.
    """
    tensors = lora_tensors(
        arch,
        fmt,
        rank,
        dtype,
        alpha_dtype=(alpha_dtype or dtype) if alpha else None,
        i2v=i2v,
        diff=diff,
        blocks=blocks,
        adaptive_ranks=adaptive_ranks,
    )
    tensors.update({name: (dtype, tuple(shape)) for name, (dtype, shape) in (extra or {}).items()})
    return serialize_header(tensors, metadata)


# -------------------------------------------------------------------------------- key-list fixtures

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "headers"
"""Key lists transcribed from public writer code (format: ``tests/fixtures/headers/README.md``)."""
_MIN = re.compile(r"min\((.+),(.+)\)")
_RANGE = re.compile(r"(\d+)\.\.(\d+)")
_PLACEHOLDER = re.compile(r"\{([a-z])\}")


@dataclass
class _KeyList:
    """What a key-list file declares, as it is read."""

    values: dict[str, int]
    overrides: Mapping[str, int]
    each: dict[str, list[str]] = field(default_factory=dict)
    tensors: TensorTable = field(default_factory=dict)
    metadata: dict[str, str] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)


def _evaluate(expr: str, values: Mapping[str, int]) -> int:
    """An integer expression of a key list: a number, a name, ``A*B`` or ``min(A, B)``."""
    expr = expr.strip()
    smallest = _MIN.fullmatch(expr)
    if smallest is not None:
        return min(_evaluate(smallest.group(1), values), _evaluate(smallest.group(2), values))
    if "*" in expr:
        return math.prod(_evaluate(term, values) for term in expr.split("*"))
    return int(expr) if expr.isdigit() else values[expr]


def _assignment(rest: str) -> tuple[str, str]:
    name, _, value = rest.partition("=")
    return name.strip(), value.strip()


def _expand(name: str, each: Mapping[str, list[str]]) -> list[str]:
    """Every key a pattern stands for: one per combination of its ``{i}``-style placeholders."""
    names = [name]
    for placeholder in sorted(set(_PLACEHOLDER.findall(name))):
        names = [n.replace("{" + placeholder + "}", v) for n in names for v in each[placeholder]]
    return names


def _read_key_list(path: Path, state: _KeyList) -> None:
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.startswith("# source:"):
            state.sources.append(line)
        if not line or line.startswith("#"):
            continue
        word, _, rest = line.partition(" ")
        if word == "include":
            _read_key_list(path.parent / rest.strip(), state)
        elif word == "set":
            name, expr = _assignment(rest)
            state.values[name] = state.overrides.get(name, _evaluate(expr, state.values))
        elif word == "each":
            name, spec = _assignment(rest)
            bounds = _RANGE.fullmatch(spec)
            if bounds is not None:
                state.each[name] = [str(v) for v in range(int(bounds.group(1)), int(bounds.group(2)) + 1)]
            else:
                state.each[name] = [v.strip() for v in spec.split(",")]
        elif word == "meta":
            key, value = _assignment(rest)
            state.metadata[key] = value
        elif word == "metajson":
            key, value = _assignment(rest)
            state.metadata[key] = json.dumps(json.loads(value), indent=2, sort_keys=True)
        else:
            dtype, _, shape = rest.strip().partition(" ")
            dims = shape.strip().removeprefix("[").removesuffix("]")
            parsed = tuple(_evaluate(d, state.values) for d in dims.split(",") if d.strip())
            for name in _expand(word, state.each):
                state.tensors[name] = (dtype, parsed)


def load_key_list(name: str, **overrides: int) -> tuple[TensorTable, dict[str, str] | None]:
    """``(tensors, metadata)`` of ``tests/fixtures/headers/<name>``; ``overrides`` replace ``set`` values.

    ``metadata`` is ``None`` when the file declares none (the writer stores no ``__metadata__``).
    """
    state = _KeyList(values={}, overrides=overrides)
    _read_key_list(FIXTURES / name, state)
    assert state.sources, f"{name} cites no public source (a '# source:' line)"
    unknown = set(overrides) - set(state.values)
    assert not unknown, f"{name} has no variable {sorted(unknown)}"
    return state.tensors, state.metadata or None


def fixture_header(name: str, **overrides: int) -> bytes:
    """Serialized header of a key-list fixture (see :func:`load_key_list`)."""
    tensors, metadata = load_key_list(name, **overrides)
    return serialize_header(tensors, metadata)


def full_model_header(blocks: int = 40) -> bytes:
    """A Wan 14B diffusion model's header as ComfyUI's repackaged checkpoints name it: weights, no LoRA key."""
    tensors: dict[str, tuple[str, tuple[int, ...]]] = {}
    for block in range(blocks):
        for part in (
            "self_attn.q",
            "self_attn.k",
            "self_attn.v",
            "self_attn.o",
            "cross_attn.q",
            "cross_attn.o",
        ):
            tensors[f"model.diffusion_model.blocks.{block}.{part}.weight"] = ("F8_E4M3", (5120, 5120))
            tensors[f"model.diffusion_model.blocks.{block}.{part}.bias"] = ("BF16", (5120,))
        tensors[f"model.diffusion_model.blocks.{block}.modulation"] = ("F32", (1, 6, 5120))
    tensors["model.diffusion_model.patch_embedding.weight"] = ("BF16", (5120, 16, 1, 2, 2))
    return serialize_header(tensors)
