"""Fit verdicts and shape notes on independent fixtures (issue 11 items 2 and 3, VACE, and the acceptance rule).

The fixtures are key lists transcribed from writer code (``tests/fixtures/headers/``); three of them reproduce real
published file sizes to the byte, which shows the transcription matches the files the catalog points at.
"""

from __future__ import annotations

import pytest

from generator.lora.architectures import ARCHITECTURES
from tests.header_analysis import analyse_fixture, analyse_table, verdicts
from tests.safetensors_factory import (
    FIXTURES,
    file_size,
    fixture_header,
    load_key_list,
)

OVER = "over-parameterised (the pair holds at least as many parameters as the full weight, r·(in+out) ≥ in·out) on "


@pytest.mark.parametrize(
    ("name", "overrides", "size"),
    [
        ("kijai-extract-14b-t2v-type.keys", {}, 630_697_104),
        ("kijai-extract-14b-t2v-type.keys", {"R": 128}, 1_253_192_432),
        ("kijai-extract-wan21-i2v-14b.keys", {"R": 128}, 1_466_506_280),
        ("lightning-14b-alpha-f16.keys", {}, 613_561_776),
    ],
    ids=["kijai-r64", "kijai-r128", "kijai-i2v-r128", "lightning"],
)
def test_fixtures_reproduce_real_file_sizes(name: str, overrides: dict[str, int], size: int) -> None:
    """The transcribed key lists give the byte sizes of real Hub files (hub-api.md §12): they are the real layouts."""
    assert file_size(fixture_header(name, **overrides)) == size


# ------------------------------------------------------------------------------ item 2: over-parameterised


def test_rank_32_extraction_is_not_over_parameterised() -> None:
    """Rank 32 on head.head (64×5120) holds 165,888 parameters against 327,680 dense: not over-parameterised."""
    facts = analyse_fixture("kijai-extract-14b-t2v-type.keys", R=32)
    assert (facts.rank.kind, facts.rank.nominal) == ("uniform", 32)
    assert not any("over-parameterised" in n for n in facts.notes)


def test_rank_128_time_embedding_is_not_over_parameterised() -> None:
    """At rank 128 time_embedding.0 (5120×256) holds 688,128 of 1,310,720; only the full-rank head.head (64 of 64,
    331,776 ≥ 327,680) is larger than its dense delta."""
    facts = analyse_fixture("kijai-extract-14b-t2v-type.keys", R=128)
    assert [n for n in facts.notes if "over-parameterised" in n] == [OVER + "head.head"]


def test_half_rank_square_layers_are_over_parameterised() -> None:
    """Rank 2560 on 5120×5120 attention: 2560·10240 = 5120·5120, the boundary case counts."""
    tensors, _ = load_key_list("lightning-14b-alpha-f16.keys", R=2560)
    blocks = {k: v for k, v in tensors.items() if k.startswith("diffusion_model.blocks.0.self_attn.q.")}
    assert [n for n in analyse_table(blocks).notes if "over-parameterised" in n] == [
        OVER + "blocks.*.self_attn.q"
    ]


# --------------------------------------------------------------------------------------- item 3: FLF2V


def test_flf2v_key_on_wan21_i2v_names_flf2v() -> None:
    """``img_emb.emb_pos`` exists only in FLF2V: on Wan 2.1 I2V (which has a CLIP branch) the reason says so."""
    facts = analyse_fixture("flf2v-14b.keys")
    assert facts.has_flf
    assert facts.fits["wan2.1-i2v-14b"].verdict == "partial"
    assert facts.fits["wan2.1-i2v-14b"].reason == (
        "1 FLF2V key(s) ignored (img_emb.emb_pos exists only in the Wan 2.1 FLF2V 14B model, not in Wan 2.1 I2V 14B)"
    )
    assert facts.fits["wan2.1-t2v-14b"].reason == (
        "290 image-branch keys ignored (Wan 2.1 T2V 14B has no CLIP branch); 1 FLF2V key(s) ignored "
        "(img_emb.emb_pos exists only in the Wan 2.1 FLF2V 14B model, not in Wan 2.1 T2V 14B)"
    )
    assert facts.base_guess.architecture == "wan2.1-i2v-14b"


# ------------------------------------------------------------------------------------------------ VACE


def test_vace_lora_fits_its_size_only() -> None:
    """A VACE 1.3B extraction: its base blocks apply to 1.3B, its VACE keys are ignored; 14B and 5B mismatch."""
    facts = analyse_fixture("vace-kijai-extract-1.3b.keys")
    assert facts.has_vace
    assert facts.blocks_covered.vace_blocks == 15
    assert [a for a, v in verdicts(facts).items() if v != "no"] == ["wan2.1-t2v-1.3b"]
    assert facts.fits["wan2.1-t2v-1.3b"].reason == (
        "349 VACE keys ignored (vace_* modules exist only in the Wan 2.1 VACE models, not in Wan 2.1 T2V 1.3B)"
    )


def test_vace_blocks_alone_fit_nothing() -> None:
    """The VACE keys alone patch no base model: ``no`` everywhere, with the 14B mismatch shown by their shapes."""
    tensors, _ = load_key_list("vace-kijai-extract-1.3b.keys")
    facts = analyse_table({k: v for k, v in tensors.items() if ".vace" in k})
    assert set(verdicts(facts).values()) == {"no"}
    assert facts.fits["wan2.1-t2v-1.3b"].reason.startswith(
        "no key applies to Wan 2.1 T2V 1.3B: 349 VACE keys ignored"
    )
    assert "dim 1536 vs 5120" in facts.fits["wan2.1-t2v-14b"].reason


# ---------------------------------------------------------------------------------------- acceptance


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("*.keys")))
def test_a_lora_for_one_size_class_never_fits_another(name: str) -> None:
    """Over every independent fixture, ``fits`` and ``partial`` stay within one size class (1.3B, 5B or 14B)."""
    facts = analyse_fixture(name)
    usable = {ARCHITECTURES[a].size_class for a, v in verdicts(facts).items() if v in ("fits", "partial")}
    assert len(usable) == 1
    assert facts.unmatched_keys == 0


def test_fixture_directory_is_documented() -> None:
    """Every fixture is listed in the README that states the format and the sources."""
    readme = (FIXTURES / "README.md").read_text(encoding="utf-8")
    missing = [p.name for p in FIXTURES.glob("*.keys") if f"`{p.name}`" not in readme]
    assert missing == []
