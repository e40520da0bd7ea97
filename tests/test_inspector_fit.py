"""Fit verdicts and shape notes on independent fixtures (issue 11 items 2 and 3, VACE, and the acceptance rule).

The fixtures are key lists transcribed from writer code (``tests/fixtures/headers/``); three of them reproduce real
published file sizes to the byte, which shows the transcription matches the files the catalog points at. The
verdicts are ComfyUI v0.29.0's (issue 19): each expectation cites the line of ComfyUI's code it follows.
"""

from __future__ import annotations

import pytest

from generator.lora.architectures import ARCHITECTURES
from generator.lora.comfyui_loader import COMFYUI_LABEL
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


@pytest.mark.parametrize("rank", [64, 128])
def test_full_rank_head_is_not_over_parameterised(rank: int) -> None:
    """head.head (64×5120) at rank 64, its smaller side, holds 331,776 ≥ 327,680 parameters, yet it is the full
    rank: the dense delta in factored form, as Kijai's extractions write it at rank 64 (the MoE distill file) or
    capped there at rank 128, not over-parameterised (issue 19). At rank 128 time_embedding.0 (5120×256) holds
    688,128 of 1,310,720."""
    facts = analyse_fixture("kijai-extract-14b-t2v-type.keys", R=rank)
    assert facts.rank.capped == (() if rank == 64 else ("head.head",))
    assert not any("over-parameterised" in n for n in facts.notes)


def test_half_rank_square_layers_are_over_parameterised() -> None:
    """Rank 2560 on 5120×5120 attention: 2560·10240 = 5120·5120, the boundary case counts."""
    tensors, _ = load_key_list("lightning-14b-alpha-f16.keys", R=2560)
    blocks = {k: v for k, v in tensors.items() if k.startswith("diffusion_model.blocks.0.self_attn.q.")}
    assert [n for n in analyse_table(blocks).notes if "over-parameterised" in n] == [
        OVER + "blocks.*.self_attn.q"
    ]


# --------------------------------------------------------------------------------------- item 3: FLF2V


def test_flf2v_key_on_wan21_i2v_names_flf2v() -> None:
    """``img_emb.emb_pos`` exists only in an FLF2V build (``comfy/ldm/wan/model.py:389`` needs
    ``flf_pos_embed_token_number``): on Wan 2.1 I2V it is the one key not loaded (``comfy/lora.py:93``); the
    T2V-type builds also leave out the 290 image-branch keys (``model_detection.py:709-712``)."""
    facts = analyse_fixture("flf2v-14b.keys")
    assert facts.has_flf
    assert facts.fits["wan2.1-i2v-14b"].verdict == "partial"
    assert facts.fits["wan2.1-i2v-14b"].reason == (
        f"1261 of 1262 patches applied by {COMFYUI_LABEL} on Wan 2.1 I2V 14B; "
        "1 key for img_emb.emb_pos not loaded (only the Wan 2.1 FLF2V model has it)"
    )
    assert facts.fits["wan2.1-t2v-14b"].reason == (
        f"1053 of 1262 patches applied by {COMFYUI_LABEL} on Wan 2.1 T2V 14B; "
        "1 key for img_emb.emb_pos not loaded (only the Wan 2.1 FLF2V model has it); "
        "290 keys of the image branch not loaded (Wan 2.1 T2V 14B is built without the CLIP branch)"
    )
    counts = facts.fits["wan2.1-t2v-14b"].counts
    assert counts is not None
    assert counts.keys_not_loaded == {"flf": 1, "image-branch": 290}
    assert (counts.applied, counts.patches) == (1053, 1262)
    assert facts.base_guess.architecture == "wan2.1-i2v-14b"


# ------------------------------------------------------------------------------------------------ VACE


def test_vace_lora_applies_its_base_blocks_on_its_size_only() -> None:
    """A VACE 1.3B extraction: ``vace_blocks`` exist only in ``VaceWanModel`` (``model.py:727-775``), so its 349
    VACE keys are not loaded anywhere; its base blocks apply on 1.3B and fail at merge on the wider models
    (``weight_adapter/lora.py:267-285``)."""
    facts = analyse_fixture("vace-kijai-extract-1.3b.keys")
    assert facts.has_vace
    assert facts.blocks_covered.vace_blocks == 15
    assert verdicts(facts) == {a: "partial" if a == "wan2.1-t2v-1.3b" else "no" for a in ARCHITECTURES}
    assert facts.fits["wan2.1-t2v-1.3b"].reason == (
        f"300 of 483 patches applied by {COMFYUI_LABEL} on Wan 2.1 T2V 1.3B; "
        "349 keys for VACE modules not loaded (Wan 2.1 T2V 1.3B has no vace_blocks)"
    )
    assert (
        "300 patches fail at merge (shape mismatch with Wan 2.1 T2V 14B)"
        in facts.fits["wan2.1-t2v-14b"].reason
    )


def test_vace_blocks_alone_fit_nothing() -> None:
    """The VACE keys alone name no parameter of a base model: nothing applies anywhere (``comfy/lora.py:93``)."""
    tensors, _ = load_key_list("vace-kijai-extract-1.3b.keys")
    facts = analyse_table({k: v for k, v in tensors.items() if ".vace" in k})
    assert set(verdicts(facts).values()) == {"no"}
    assert facts.fits["wan2.1-t2v-1.3b"].reason == (
        f"0 of 183 patches applied by {COMFYUI_LABEL} on Wan 2.1 T2V 1.3B; "
        "349 keys for VACE modules not loaded (Wan 2.1 T2V 1.3B has no vace_blocks)"
    )


# ---------------------------------------------------------------------------------------- acceptance


LOADS_NOWHERE = {
    "diffusers-wan21-t2v-14b.keys",
    "lokr-aitoolkit-old-format-14b.keys",
    "lokr-lycoris-diffusers-names-14b.keys",
}
"""``transformer.`` and ``lycoris_`` names: native ComfyUI's Wan key map has neither (``comfy/lora.py:187-198``;
``comfy/utils.py:336-338`` adds no diffusers names), so nothing applies on any model."""


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("*.keys")))
def test_a_lora_for_one_size_class_never_fits_another(name: str) -> None:
    """Over every independent fixture, ``fits`` and ``partial`` stay within the size class its shapes show
    (ComfyUI loads any size's keys and fails them at merge, ``weight_adapter/lora.py:267-285``), and are
    nowhere for the files whose names ComfyUI does not map."""
    facts = analyse_fixture(name)
    usable = {ARCHITECTURES[a].size_class for a, v in verdicts(facts).items() if v in ("fits", "partial")}
    shown = {ARCHITECTURES[a].size_class for a in facts.base_guess.shape_candidates}
    assert len(shown) == 1
    assert usable == (set() if name in LOADS_NOWHERE else shown)
    assert facts.unmatched_keys == 0


def test_fixture_directory_is_documented() -> None:
    """Every fixture is listed in the README that states the format and the sources."""
    readme = (FIXTURES / "README.md").read_text(encoding="utf-8")
    missing = [p.name for p in FIXTURES.glob("*.keys") if f"`{p.name}`" not in readme]
    assert missing == []
