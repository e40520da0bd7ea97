"""Parse a safetensors header (raw bytes) into tensor specs and metadata; no I/O."""

from __future__ import annotations

import json
import re
import struct

from pydantic import BaseModel

from generator.lora.facts import FROZEN

MAX_HEADER_BYTES = 25_000_000
"""Largest JSON header accepted (the Hub's own limit)."""


class HeaderError(ValueError):
    """The bytes are not a readable safetensors header."""


_DTYPE = re.compile(r"^[A-Za-z0-9_]{1,24}$")
MAX_DIMENSION = 2**53


class TensorSpec(BaseModel):
    """One tensor as the header describes it (no values)."""

    model_config = FROZEN

    dtype: str
    shape: tuple[int, ...]


def declared_length(prefix: bytes) -> int:
    """The JSON length the first 8 bytes declare; HeaderError when absent or beyond the limit."""
    if len(prefix) < 8:
        raise HeaderError("fewer than 8 bytes: no safetensors header length")
    (size,) = struct.unpack("<Q", prefix[:8])
    if size > MAX_HEADER_BYTES:
        raise HeaderError(f"header length {size} exceeds {MAX_HEADER_BYTES} bytes")
    return int(size)


def header_from_bytes(data: bytes) -> tuple[dict[str, TensorSpec], dict[str, str]]:
    """Parse the start of a safetensors file (u64le ``N`` + ``N`` bytes of JSON; more bytes are ignored).

    The bytes are untrusted: anything the safetensors format does not allow raises :class:`HeaderError`.
    """
    size = declared_length(data)
    if len(data) < 8 + size:
        raise HeaderError(f"header declares {size} bytes but only {len(data) - 8} follow")
    try:
        raw = json.loads(data[8 : 8 + size].decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:  # JSONDecodeError, or an integer of thousands of digits
        raise HeaderError(f"header is not JSON: {exc}") from exc
    except RecursionError as exc:
        raise HeaderError("header JSON is nested too deeply") from exc
    if not isinstance(raw, dict):
        raise HeaderError("header JSON is not an object")
    return _tensors_from_json(raw), _metadata_from_json(raw.get("__metadata__", {}))


def _tensors_from_json(raw: dict[str, object]) -> dict[str, TensorSpec]:
    """Turn the header's tensor entries into :class:`TensorSpec` values, sorted by name."""
    return {name: _tensor(name, raw[name]) for name in sorted(raw) if name != "__metadata__"}


def _tensor(name: str, entry: object) -> TensorSpec:
    if not isinstance(entry, dict) or "dtype" not in entry or "shape" not in entry:
        raise HeaderError(f"tensor {name!r} lacks dtype or shape")
    dtype, shape = entry["dtype"], entry["shape"]
    if not isinstance(dtype, str) or not _DTYPE.match(dtype):
        raise HeaderError(f"tensor {name!r} has an invalid dtype: {_shown(dtype)}")
    if not isinstance(shape, list) or not all(_dimension(value) for value in shape):
        raise HeaderError(f"tensor {name!r} has an invalid shape: {_shown(shape)}")
    return TensorSpec.model_construct(dtype=dtype, shape=tuple(shape))


def _dimension(value: object) -> bool:
    return type(value) is int and 0 <= value <= MAX_DIMENSION


def _shown(value: object) -> str:
    """A short printable rendering of an untrusted JSON value, for error messages."""
    text = json.dumps(value)
    return text if len(text) <= 60 else text[:59] + "…"


def _metadata_from_json(raw: object) -> dict[str, str]:
    """``__metadata__`` as a sorted string map; the format allows only strings."""
    if not isinstance(raw, dict):
        raise HeaderError("__metadata__ is not an object")
    wrong = next((key for key, value in raw.items() if not isinstance(value, str)), None)
    if wrong is not None:
        raise HeaderError(f"__metadata__ value of {wrong!r} is not a string: {_shown(raw[wrong])}")
    return {str(k): raw[k] for k in sorted(raw)}
