"""Parse a safetensors header (raw bytes) into tensor specs and metadata; no I/O."""

from __future__ import annotations

import json
import struct

from pydantic import BaseModel, ValidationError

from generator.lora.facts import FROZEN

MAX_HEADER_BYTES = 25_000_000
"""Largest JSON header accepted (the Hub's own limit)."""


class HeaderError(ValueError):
    """The bytes are not a readable safetensors header."""


class TensorSpec(BaseModel):
    """One tensor as the header describes it (no values)."""

    model_config = FROZEN

    dtype: str
    shape: tuple[int, ...]


def header_from_bytes(data: bytes) -> tuple[dict[str, TensorSpec], dict[str, str]]:
    """Parse the start of a safetensors file (u64le ``N`` + ``N`` bytes of JSON; more bytes are ignored)."""
    if len(data) < 8:
        raise HeaderError("fewer than 8 bytes: no safetensors header length")
    (size,) = struct.unpack("<Q", data[:8])
    if size > MAX_HEADER_BYTES:
        raise HeaderError(f"header length {size} exceeds {MAX_HEADER_BYTES} bytes")
    if len(data) < 8 + size:
        raise HeaderError(f"header declares {size} bytes but only {len(data) - 8} follow")
    try:
        raw = json.loads(data[8 : 8 + size].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise HeaderError(f"header is not JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise HeaderError("header JSON is not an object")
    return _tensors_from_json(raw), _metadata_from_json(raw.get("__metadata__"))


def _tensors_from_json(raw: dict[str, object]) -> dict[str, TensorSpec]:
    """Turn the header's tensor entries into :class:`TensorSpec` values, sorted by name."""
    tensors: dict[str, TensorSpec] = {}
    for name in sorted(raw):
        entry = raw[name]
        if name == "__metadata__":
            continue
        if not isinstance(entry, dict) or "dtype" not in entry or "shape" not in entry:
            raise HeaderError(f"tensor {name!r} lacks dtype or shape")
        try:
            tensors[name] = TensorSpec(dtype=str(entry["dtype"]), shape=entry["shape"])
        except ValidationError as exc:
            raise HeaderError(f"tensor {name!r} has an invalid shape: {entry['shape']!r}") from exc
    return tensors


def _metadata_from_json(raw: object) -> dict[str, str]:
    """``__metadata__`` as a sorted string map (absent or empty gives ``{}``)."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise HeaderError("__metadata__ is not an object")
    return {str(k): str(raw[k]) for k in sorted(raw)}
