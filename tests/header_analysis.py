"""Header analysis as the check does it, for the inspector tests: serialize, parse the bytes, analyse.

The tests never hand the analyser a table directly: every header goes through the bytes a real file starts with,
so the parser is exercised on the way (one helper here instead of a copy per test module).
"""

from __future__ import annotations

from generator.lora.analyse import analyse_header
from generator.lora.facts import HeaderFacts
from generator.lora.parse import header_from_bytes
from tests.safetensors_factory import TensorInput, fixture_header, load_key_list, serialize_header

FILENAME = "lora.safetensors"
"""A file name that claims nothing (no size, task, expert, rank or precision)."""


def analyse_bytes(header: bytes, filename: str = FILENAME) -> HeaderFacts:
    """Parse header bytes and analyse them, as the Hub-facing caller does."""
    tensors, metadata = header_from_bytes(header)
    return analyse_header(tensors, metadata, filename)


def analyse_fixture(name: str, filename: str = FILENAME, **overrides: int) -> HeaderFacts:
    """A key-list fixture of tests/fixtures/headers/ (placeholders overridden), serialized and analysed."""
    return analyse_bytes(fixture_header(name, **overrides), filename)


def analyse_table(
    tensors: TensorInput, metadata: dict[str, str] | None = None, filename: str = FILENAME
) -> HeaderFacts:
    """A tensor table (e.g. part of a fixture) with metadata (None: no ``__metadata__``), serialized and analysed."""
    return analyse_bytes(serialize_header(tensors, metadata), filename)


def analyse_with_metadata(
    name: str, metadata: dict[str, str] | None, filename: str = FILENAME
) -> HeaderFacts:
    """A fixture's tensors under other metadata (None: no ``__metadata__`` at all)."""
    tensors, _ = load_key_list(name)
    return analyse_table(tensors, metadata, filename)


def verdicts(facts: HeaderFacts) -> dict[str, str]:
    """Architecture id → verdict word."""
    return {arch: verdict.verdict for arch, verdict in facts.fits.items()}
