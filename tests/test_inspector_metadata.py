"""What metadata may and may not decide (issue 11 items 4, 5 and 6): alpha, writer, loader notes, noise level.

Headers come from key lists transcribed from musubi-tuner, diffusers and LyCORIS code (``tests/fixtures/headers/``).
"""

from __future__ import annotations

import functools
import re

import pytest

from generator.lora.analyse import analyse_header
from generator.lora.facts import HeaderFacts
from generator.lora.filename import claims_from_filename
from generator.lora.parse import header_from_bytes
from tests.header_analysis import analyse_fixture, analyse_table, analyse_with_metadata
from tests.safetensors_factory import TensorTable, load_key_list, serialize_header

CONVERTED = "musubi-converted-wan22-t2v-a14b.keys"


# ------------------------------------------------------------------------------ item 4: metadata alpha


def test_converted_file_with_folded_alpha_reports_scale_one() -> None:
    """``convert_lora.py --target other`` folds alpha into the weights and keeps ``ss_network_alpha``: scale 1.0."""
    alpha = analyse_fixture(CONVERTED).alpha
    assert (alpha.pairs, alpha.with_alpha, alpha.metadata_alpha, alpha.scale) == (400, 0, 16.0, 1.0)
    assert alpha.note.startswith("1.0 (no alpha tensors); metadata ss_network_alpha 16 is not applied")
    assert any(
        n.startswith("metadata says alpha 16 (ss_network_alpha) but the file has no alpha tensors")
        for n in analyse_fixture(CONVERTED).notes
    )


def test_native_musubi_alpha_tensors_give_the_scale() -> None:
    """With alpha tensors, their value (stated by ``ss_network_alpha``) over the rank is the scale: 16 / 32."""
    alpha = analyse_fixture("musubi-native-wan21-i2v-14b.keys").alpha
    assert (alpha.with_alpha, alpha.tensor_dtypes, alpha.scale) == (480, ("bf16",), 0.5)


def test_lightning_alpha_values_stay_unknown() -> None:
    """Lightning's alpha tensors carry their value in the data area and the metadata states none."""
    alpha = analyse_fixture("lightning-14b-alpha-f16.keys").alpha
    assert (alpha.with_alpha, alpha.tensor_dtypes, alpha.scale, alpha.note) == (
        400,
        ("fp16",),
        None,
        "unknown (alpha in data)",
    )


def test_diffusers_adapter_metadata_is_read_with_its_component_prefix() -> None:
    """diffusers stores ``transformer.lora_alpha``/``transformer.r``; its own loader applies 16/32, ComfyUI-style 1.0."""
    facts = analyse_fixture("diffusers-wan21-t2v-14b.keys")
    assert (facts.alpha.metadata_alpha, facts.alpha.scale) == (16.0, 1.0)
    assert facts.alpha.note.endswith(
        "diffusers' own loader applies lora_alpha 16 / r 32 = 0.5 from lora_adapter_metadata"
    )


# ---------------------------------------------------------------------------------- item 5: the writer


def test_converted_layout_is_named_and_the_tool_comes_from_metadata() -> None:
    """The ``diffusion_model.`` + lora_A/lora_B layout is written by three tools; ``ss_network_module`` picks one."""
    facts = analyse_fixture(CONVERTED)
    assert facts.key_format == "comfyui-peft"
    assert facts.layout == (
        "diffusion_model.* lora_A/lora_B, no alpha tensors "
        "(diffusion-pipe, musubi-tuner's convert_lora.py --target other, or ai-toolkit)"
    )
    assert (
        facts.writer == "musubi-tuner, converted by convert_lora.py --target other (its ss_* metadata kept)"
    )


@pytest.mark.parametrize("metadata", [None, {"format": "pt"}], ids=["none", "format-pt"])
def test_same_layout_without_naming_metadata_names_no_tool(metadata: dict[str, str] | None) -> None:
    """Without ``ss_network_module`` or ai-toolkit's ``software`` the layout is named, not one tool."""
    facts = analyse_with_metadata(CONVERTED, metadata)
    assert (facts.key_format, facts.writer) == ("comfyui-peft", None)
    assert "diffusion-pipe, musubi-tuner's convert_lora.py --target other, or ai-toolkit" in facts.layout


def test_native_musubi_writer() -> None:
    """musubi-tuner's own ``lora_unet_`` keys with ``networks.lora_wan``: written by musubi-tuner, not converted."""
    facts = analyse_fixture("musubi-native-wan21-i2v-14b.keys")
    assert (facts.key_format, facts.writer) == ("kohya", "musubi-tuner")
    assert (
        facts.layout
        == "lora_unet_* lora_down/lora_up, with alpha tensors (kohya-style trainers such as musubi-tuner)"
    )


# ------------------------------------------------------------------ item 6: loader claims and noise level


def test_what_loads_diffusers_names_is_said_once_in_the_verdict() -> None:
    """The note names the spelling; native ComfyUI and Kijai's wrapper are the verdict's to judge, with counts
    (issue 19): ``transformer.`` is no Wan key-map prefix (``comfy/lora.py:187-198``), and the wrapper's renaming
    sends attn1 and attn2 both onto cross_attn, the later (attn2) replacing the earlier, with no mapping for
    ffn.net: its 4 cross-attention pairs on 40 blocks, 320 keys, load."""
    facts = analyse_fixture("diffusers-wan21-t2v-14b.keys")
    (note,) = [n for n in facts.notes if "diffusers module names" in n]
    assert (
        note
        == "800 keys use diffusers module names (attn1/attn2, to_out.0, ffn.net …), the names diffusers loads"
    )
    assert not any("WanVideoWrapper" in n or "native ComfyUI" in n for n in facts.notes)
    assert facts.fits["wan2.1-t2v-14b"].reason.endswith(
        "800 keys not loaded: native ComfyUI maps no transformer.… names for Wan; "
        "Kijai's WanVideoWrapper would load 320 of the keys native ComfyUI leaves out"
    )
    counts = facts.fits["wan2.1-t2v-14b"].counts
    assert counts is not None
    assert (counts.applied, counts.keys_not_loaded, counts.wrapper_keys) == (0, {"prefix": 800}, 320)


def test_low_noise_dit_name_does_not_decide_the_expert() -> None:
    """musubi-tuner stores ``--dit`` (the low-noise model even when both experts were trained): no noise level."""
    guess = analyse_fixture(CONVERTED).base_guess
    assert (guess.architecture, guess.source, guess.noise_level) == ("wan2.2-t2v-a14b", "metadata", None)


@pytest.mark.parametrize(
    ("metadata", "filename", "noise"),
    [
        ({"ss_sd_model_name": "wan2.2_t2v_high_noise_14B_fp16.safetensors"}, "lora.safetensors", "high"),
        ({"modelspec.timestep_range": "875,1000"}, "lora.safetensors", "high"),
        ({"modelspec.timestep_range": "0,900"}, "lora.safetensors", "low"),
        ({"modelspec.timestep_range": "0,1000"}, "lora.safetensors", None),
        ({"ss_output_name": "my_style_high_quality"}, "lora.safetensors", None),
        ({"ss_sd_model_name": "wan2.2_t2v_low_noise_14B_fp16.safetensors"}, "motion_LOW.safetensors", "low"),
    ],
    ids=["high-dit", "high-range", "low-range", "full-range", "high-quality", "name-says-low"],
)
def test_noise_level_sources(metadata: dict[str, str], filename: str, noise: str | None) -> None:
    """A high-noise ``--dit`` means the high expert alone; timestep ranges and names decide; ``high_quality`` does not."""
    facts = analyse_with_metadata(CONVERTED, metadata, filename)
    assert facts.base_guess.noise_level == noise


def test_output_name_with_high_quality_is_no_noise_claim() -> None:
    """musubi-tuner writes ``--output_name`` into ``ss_output_name`` and ``modelspec.title``: "high_quality" is a word."""
    assert analyse_fixture("musubi-native-wan21-i2v-14b.keys").base_guess.noise_level is None


@pytest.mark.parametrize(
    ("name", "noise"),
    [
        ("cinematic_high_quality_lora.safetensors", None),
        ("low_light_scene_v2.safetensors", None),
        ("flowers_lora_highres", None),
        ("Wan22_I2V_A14B_HIGH_lightx2v_lora.safetensors", "high"),
        ("Wan2.2-T2V-A14B-4steps-lora-rank64-Seko-V1/high_noise_model.safetensors", "high"),
        ("wan22_HighNoise_motion.safetensors", "high"),
        ("motion_low.safetensors", "low"),
        ("WAN22_LOW_lora.safetensors", "low"),
    ],
)
def test_noise_tokens_in_names(name: str, noise: str | None) -> None:
    """Only whole tokens count: high_noise/low_noise, HIGH/LOW, or high/low as a path segment's last word."""
    assert claims_from_filename(name).noise_level == noise


# ------------------------------------------------------------------- review item 12: hostile metadata and names

DIGITS = "9" * 5000
DIFFUSERS = "diffusers-wan21-t2v-14b.keys"
HOSTILE_METADATA = {
    "5000-digit-r": {"lora_adapter_metadata": '{"transformer.r": ' + DIGITS + "}"},
    "400-digit-r-and-alpha": {
        "lora_adapter_metadata": '{"transformer.r": 1'
        + "0" * 400
        + ', "transformer.lora_alpha": 1'
        + "0" * 400
        + "}"
    },
    "float-extremes": {
        "lora_adapter_metadata": '{"transformer.r": 1e-300, "transformer.lora_alpha": -1e308}'
    },
    "deep-array": {"lora_adapter_metadata": "[" * 100_000 + "]" * 100_000},
    "deep-object": {"lora_adapter_metadata": '{"a":' * 100_000 + "1" + "}" * 100_000},
    "5000-digit-software": {"software": '{"name": ' + DIGITS + "}"},
    "dynamic-dit": {"ss_sd_model_name": "dynamic_" + DIGITS},
    "rank-output-name": {
        "ss_output_name": "lora_rank_" + DIGITS,
        "modelspec.title": "average_rank_" + DIGITS,
    },
    "kohya-digits": {"ss_network_dim": DIGITS, "ss_network_alpha": "1e308"},
    "kohya-tiny-rank": {"ss_network_dim": "1e-320", "ss_network_alpha": "1" + "0" * 39},
    "superscript-timesteps": {"modelspec.timestep_range": "²,1000"},
}


def two_blocks(fixture: str) -> TensorTable:
    """A fixture's tensors outside the blocks and on blocks 0 and 1: the writer's layout, a twentieth of the work."""
    tensors, _ = load_key_list(fixture)
    return {
        name: spec for name, spec in tensors.items() if not re.search(r"blocks[._](?:[2-9]|\d\d+)[._]", name)
    }


@functools.cache
def without_metadata(fixture: str) -> HeaderFacts:
    """The facts of two_blocks(fixture) with an empty ``__metadata__`` (computed once per fixture)."""
    return analyse_table(two_blocks(fixture), {})


@pytest.mark.parametrize("metadata", HOSTILE_METADATA.values(), ids=HOSTILE_METADATA)
@pytest.mark.parametrize("fixture", [DIFFUSERS, "musubi-native-wan21-i2v-14b.keys"])
def test_hostile_metadata_states_nothing_and_raises_nothing(metadata: dict[str, str], fixture: str) -> None:
    """Absurd numbers (too many digits for int(), too large for a float, a rank that divides by almost 0), JSON
    nested past the recursion limit, superscript digits: the analysis ignores the value, as if it were absent."""
    parsed, parsed_metadata = header_from_bytes(serialize_header(two_blocks(fixture), metadata))
    assert parsed_metadata == metadata
    facts = analyse_header(parsed, parsed_metadata, "lora.safetensors")
    assert facts.blocks_covered.count == 2
    assert facts == without_metadata(fixture)


def block_tensors(index: str) -> dict[str, tuple[str, tuple[int, ...]]]:
    """One rank-32 self-attention pair on block `index` of a 14B model, plus block 0."""
    pairs: dict[str, tuple[str, tuple[int, ...]]] = {}
    for block in ("0", index):
        pairs[f"diffusion_model.blocks.{block}.self_attn.q.lora_down.weight"] = ("BF16", (32, 5120))
        pairs[f"diffusion_model.blocks.{block}.self_attn.q.lora_up.weight"] = ("BF16", (5120, 32))
    return pairs


@pytest.mark.parametrize("index", [DIGITS, "9" * 12, "1000", "0999"])
def test_a_block_index_of_four_or_more_digits_names_no_wan_block(index: str) -> None:
    """`blocks.<5000 digits>` made int() raise and `blocks.999999999999` a range of 10^12 absent blocks: a Wan
    model has at most 40 blocks, so such a key names no Wan module (it is counted as unmatched)."""
    tensors, metadata = header_from_bytes(serialize_header(block_tensors(index), {}))
    facts = analyse_header(tensors, metadata, "lora.safetensors")
    assert (facts.unmatched_keys, facts.blocks_covered.count, facts.blocks_covered.layers_seen) == (2, 1, 1)


def test_a_three_digit_block_index_gives_a_bounded_note() -> None:
    """Block 999 leaves 998 blocks absent: the note names 40 of them and counts the rest (a note is one line)."""
    tensors, metadata = header_from_bytes(serialize_header(block_tensors("999"), {}))
    facts = analyse_header(tensors, metadata, "lora.safetensors")
    assert facts.blocks_covered.layers_seen == 1000
    [note] = [n for n in facts.notes if n.startswith("partial blocks")]
    assert note == f"partial blocks: no keys for block(s) {', '.join(map(str, range(1, 41)))} and 958 more"
