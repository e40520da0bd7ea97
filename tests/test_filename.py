"""The one reader of file names, and the new-entry fields `add` and `import-templates` build from it.

Expected values are written out by hand: the real file names of data/loras/ and the names that once split
the copies of the noise-word rule (``cinematic_high_quality``, ``low_light``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.catalog.new_lora import claimed_fields, file_slug, in_field_order, lora_fields
from generator.catalog.validate import load_catalog
from generator.lora.facts import Claims
from generator.lora.filename import (
    claims_from_filename,
    completed,
    family,
    model_architecture,
    named_expert,
    noise_levels,
    sibling_stem,
)
from generator.lora.measure import dtype_name
from generator.vocabulary import CATALOG_PRECISION, HEADER_PRECISION

ROOT = Path(__file__).resolve().parent.parent

# (path, generation, task, size class, expert, rank, precision, family), each as the name states it; a Wan 2.2 T2V or
# I2V name states A14B without the word (Wan 2.2 has those tasks only as A14B: issue 19)
REAL_NAMES = [
    (
        "LoRAs/Wan22-Lightning/Wan22_A14B_T2V_HIGH_Lightning_4steps_lora_250928_rank128_fp16.safetensors",
        ("2.2", "T2V", "14B", "high", 128, "fp16", "Lightning"),
    ),
    (
        "LoRAs/Wan22-Lightning/Wan22_A14B_T2V_LOW_Lightning_4steps_lora_250928_rank64_fp16.safetensors",
        ("2.2", "T2V", "14B", "low", 64, "fp16", "Lightning"),
    ),
    (
        "LoRAs/Wan22_Lightx2v/Wan_2_2_I2V_A14B_HIGH_lightx2v_MoE_distill_lora_rank_64_bf16.safetensors",
        ("2.2", "I2V", "14B", "high", 64, "bf16", "lightx2v"),
    ),
    (
        "split_files/loras/wan2.2_t2v_lightx2v_4steps_lora_v1.1_high_noise.safetensors",
        ("2.2", "T2V", "14B", "high", None, None, "lightx2v"),
    ),
    (
        "split_files/loras/wan2.2_i2v_lightx2v_4steps_lora_v1_low_noise.safetensors",
        ("2.2", "I2V", "14B", "low", None, None, "lightx2v"),
    ),
    (
        "FastWan/FastWan_T2V_14B_480p_lora_rank_128_bf16.safetensors",
        (None, "T2V", "14B", None, 128, "bf16", "FastWan"),
    ),
    (
        "FusionX_LoRa/Phantom_Wan_14B_FusionX_LoRA.safetensors",
        (None, None, "14B", None, None, None, "FusionX"),
    ),
    (
        "Lightx2v/lightx2v_I2V_14B_480p_cfg_step_distill_rank256_bf16.safetensors",
        (None, "I2V", "14B", None, 256, "bf16", "lightx2v"),
    ),
    ("Wan21_CausVid_14B_T2V_lora_rank32.safetensors", ("2.1", "T2V", "14B", None, 32, None, "CausVid")),
    ("loras/wan2.1_SCAIL_2_DPO_lora_bf16.safetensors", ("2.1", None, None, None, None, "bf16", "SCAIL")),
    ("split_files/loras/wan_alpha_2.1_rgba_lora.safetensors", (None, None, None, None, None, None, "other")),
]


@pytest.mark.parametrize(("path", "expected"), REAL_NAMES, ids=lambda v: v if isinstance(v, str) else "")
def test_real_file_names_of_the_catalog(path: str, expected: tuple[object, ...]) -> None:
    """Generation, task, size class, expert, rank, precision and family of the catalog's own file names."""
    claims = claims_from_filename(path)
    found = (
        claims.generation,
        claims.task,
        claims.size_class,
        claims.noise_level,
        claims.rank,
        claims.precision,
        family(path),
    )
    assert found == expected


@pytest.mark.parametrize(
    ("name", "size"),
    [
        ("wan2.2_t2v_style_lora.safetensors", "14B"),
        ("Wan2.2-I2V-motion.safetensors", "14B"),
        ("wan2.2_flf2v_lora.safetensors", "14B"),
        ("wan2.2_t2v_5B_fun_lora.safetensors", "5B"),
        ("Wan2.2-Fun-5B-InP-lora.safetensors", "5B"),
        ("wan2.2_ti2v_turbo.safetensors", "5B"),
        ("ti2v_turbo.safetensors", "5B"),
        ("wan2.1_t2v_style.safetensors", None),
        ("wan2.2_style.safetensors", None),
        ("t2v_style.safetensors", None),
    ],
)
def test_size_a_name_implies(name: str, size: str | None) -> None:
    """Issue 19: ``wan2.2`` with ``t2v``/``i2v`` means A14B unless the name says 5B; ``ti2v`` or ``5B`` means 5B;
    Wan 2.1 T2V comes in 1.3B and 14B, so it implies no size."""
    assert claims_from_filename(name).size_class == size


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Wan2.1-I2V14B-480P_x.safetensors", ("2.1", "I2V", "14B")),
        ("wan2.1_t2v1.3b_style.safetensors", ("2.1", "T2V", "1.3B")),
        ("wan2.1_T2V1_3B_style.safetensors", ("2.1", "T2V", "1.3B")),
        ("Wan2.2_TI2V5B_style.safetensors", ("2.2", "TI2V", "5B")),
        ("Wan2.2-I2VA14B-high.safetensors", ("2.2", "I2V", "14B")),
        ("wan2.2_i2v_5b_lora.safetensors", ("2.2", "I2V", "5B")),
        # a size word must end the glued token: "I2V14Bx" and "t2v5bit" state no size, nor a task
        ("wan2.1_I2V14Bx.safetensors", ("2.1", None, None)),
        ("wan2.1_t2v5bit.safetensors", ("2.1", None, None)),
    ],
)
def test_a_task_glued_to_its_size_states_both(name: str, expected: tuple[str | None, ...]) -> None:
    """``I2V14B`` is the task I2V and the size 14B, as ``I2V_14B`` is."""
    claims = claims_from_filename(name)
    assert (claims.generation, claims.task, claims.size_class) == expected


@pytest.mark.parametrize(
    ("name", "generation", "task", "expected"),
    [
        ("wan_alpha_2.1_rgba_lora.safetensors", "2.1", "T2V", ("2.1", "T2V", None)),
        ("FastWan_T2V_14B_480p_lora_rank_128_bf16.safetensors", "2.1", "T2V", ("2.1", "T2V", "14B")),
        ("lightning_high_noise.safetensors", "2.2", "I2V", ("2.2", "I2V", "14B")),
        ("Phantom_Wan_14B_FusionX_LoRA.safetensors", "2.1", "R2V", ("2.1", None, "14B")),
        ("wan2.2_t2v_lora.safetensors", "2.1", "I2V", ("2.2", "T2V", "14B")),
    ],
)
def test_completed_claims_take_the_entry_where_the_name_is_silent(
    name: str, generation: str, task: str, expected: tuple[str | None, ...]
) -> None:
    """The entry's generation and task fill what the name leaves out (the name wins where it speaks); a task with no
    architecture of its own (R2V) adds nothing; Wan 2.2 + T2V/I2V then implies A14B."""
    claims = completed(claims_from_filename(name), generation, task)
    assert (claims.generation, claims.task, claims.size_class) == expected


@pytest.mark.parametrize(
    ("name", "expert"),
    [
        ("Wan21_T2V_14B_cinematic_high_quality_lora.safetensors", None),
        ("cinematic_high_quality_lora.safetensors", None),
        ("low_light_scene_v2.safetensors", None),
        ("flowers_lora_highres", None),
        ("highlights_and_lowlights", None),
        ("Wan22_A14B_T2V_HIGH_Lightning", "high"),
        ("wan22_high_noise_motion.safetensors", "high"),
        ("wan22_HighNoise_motion.safetensors", "high"),
        ("wan22-high-noise", "high"),
        ("Wan22_HN_style", "high"),
        ("WAN22_LOW_lora.safetensors", "low"),
        ("motion_low.safetensors", "low"),
        ("Wan2.2-T2V-A14B-lora/low_noise_model.safetensors", "low"),
        ("lowNoise_detail", "low"),
        ("both_HIGH_and_LOW", None),
        (None, None),
    ],
)
def test_the_noise_expert_is_read_from_whole_tokens_only(name: str | None, expert: str | None) -> None:
    """``high_quality`` and ``low_light`` claim no expert; HIGH, high_noise, HighNoise, HN do; both is none."""
    assert named_expert(name) == expert


@pytest.mark.parametrize(
    ("name", "expert"),
    [
        # a lone letter is no claim: hand_L is a hand, not the low-noise expert
        ("hand_L.safetensors", None),
        ("style_H.safetensors", None),
        ("Wan22_A14B_T2V_H_lora.safetensors", None),
        ("wan22_L_motion.safetensors", None),
        # a high/low next to a property it qualifies is that property's level
        ("wan22_A14B_t2v_lora_quality_high.safetensors", None),
        ("wan22_A14B_t2v_lora_QUALITY_HIGH.safetensors", None),
        ("wan22_A14B_t2v_lora_res_low.safetensors", None),
        ("Wan2.2_T2V_High_Quality.safetensors", None),
        ("WAN22_HIGH_DETAIL.safetensors", None),
        ("wan22_A14B_quality_high_noise.safetensors", "high"),  # but "noise" names the expert
        # a title-case High/Low inside a Wan 2.2 name is the expert
        ("wan2.2_t2v_High_Lightning.safetensors", "high"),
        ("Wan22_A14B_I2V_Low_Lightning_4steps.safetensors", "low"),
        ("LoRAs/Wan22-Lightning/T2V_High_Lightning.safetensors", "high"),  # Wan 2.2 in a folder's name
        ("Cinematic_High_Contrast_Wan22.safetensors", None),
        ("Wan21_T2V_High_Lightning.safetensors", None),  # no experts in Wan 2.1: a word of the name
        ("Lightning_High_4steps.safetensors", None),  # nor in a name of no generation
        ("wan2.2_t2v_high_lightning.safetensors", None),  # lower case inside a name: a word, as high_quality
        # the forms that always count
        ("Wan22_HIGH_Lightning.safetensors", "high"),
        ("wan22_high_noise.safetensors", "high"),
        ("wan22_HighNoise_lora.safetensors", "high"),
        ("wan22_HN_lora.safetensors", "high"),
        ("Wan22_LN_lora.safetensors", "low"),
        ("lora_high.safetensors", "high"),
        ("Lora_Low.safetensors", "low"),
    ],
)
def test_which_forms_name_a_noise_expert(name: str, expert: str | None) -> None:
    """HIGH, high_noise, HighNoise, HN, a segment's last word high, and title-case High inside a Wan 2.2 name
    name the expert; a bare H/L, and a high/low next to quality, res, detail … (either side) do not."""
    assert named_expert(name) == expert


def test_every_catalogued_file_name_states_its_entrys_expert() -> None:
    """The file names of data/loras/ (files and mirrors) state the expert their entries give, and no other."""
    catalog = load_catalog(ROOT / "data", ROOT)
    found = {(lora.id, file.path): named_expert(file.path) for lora in catalog.loras for file in lora.files}
    assert found == {(lora.id, file.path): lora.expert for lora in catalog.loras for file in lora.files}
    assert sorted(e for e in found.values() if e) == ["high"] * 4 + ["low"] * 3


def test_a_stem_drops_only_the_expert_words() -> None:
    """A title-case expert inside a Wan 2.2 name goes from the stem; a quality level stays."""
    assert sibling_stem("wan2.2_t2v_High_Lightning_r64.safetensors") == "wan2.2_t2v_Lightning"
    assert sibling_stem("wan2.2_t2v_Low_Lightning_r32.safetensors") == "wan2.2_t2v_Lightning"
    assert sibling_stem("wan22_lora_quality_high.safetensors") == "wan22_lora_quality_high"
    assert sibling_stem("hand_L.safetensors") == "hand_L"


def test_a_name_stating_both_experts_gives_both_levels() -> None:
    """The levels themselves keep both words, so a caller can tell "both" from "none"."""
    assert noise_levels("pack/high_noise.safetensors and LOW") == {"high", "low"}


@pytest.mark.parametrize(
    ("name", "architecture"),
    [
        ("wan2.2_t2v_high_noise_14B_fp8_scaled.safetensors", "wan2.2-t2v-a14b"),
        ("wan2.2_i2v_low_noise_14B_fp8_scaled.safetensors", "wan2.2-i2v-a14b"),
        ("wan2.2_ti2v_5B_fp16.safetensors", "wan2.2-ti2v-5b"),
        ("wan2.1_t2v_14B_fp8_scaled.safetensors", "wan2.1-t2v-14b"),
        ("wan2.1_t2v_1.3B_fp16.safetensors", "wan2.1-t2v-1.3b"),
        ("Wan2_1-I2V-14B-480p_fp8_e4m3fn_scaled_KJ.safetensors", "wan2.1-i2v-14b"),
        ("Wan2.1-I2V14B-480P_fp16.safetensors", "wan2.1-i2v-14b"),
        ("wan2.1_flf2v_720p_14B_fp16.safetensors", None),
        ("wan2.2_fun_control_high_noise_14B_fp8_scaled.safetensors", None),
        ("wan2.1_vace_14B_fp16.safetensors", None),
        ("wan2.2_s2v_14B_fp8_scaled.safetensors", None),
        ("wan2.1_i2v_1.3B.safetensors", None),
        (None, None),
    ],
)
def test_a_base_model_file_names_its_architecture_only_when_plain(
    name: str | None, architecture: str | None
) -> None:
    """Generation, task and size all stated and one architecture fits; variants (FLF2V, Fun, VACE, S2V) are none."""
    assert model_architecture(name) == architecture


@pytest.mark.parametrize(
    ("high", "low"),
    [
        (
            "Wan22_A14B_T2V_HIGH_Lightning_4steps_lora_250928_rank128_fp16.safetensors",
            "Wan22_A14B_T2V_LOW_Lightning_4steps_lora_250928_rank64_fp16.safetensors",
        ),
        (
            "wan2.2_i2v_lightx2v_4steps_lora_v1_high_noise.safetensors",
            "wan2.2_i2v_lightx2v_4steps_lora_v1_low_noise.safetensors",
        ),
        ("style_HIGH_noise_r32_fp8_e4m3fn.safetensors", "style_LOW_noise_r16_bf16.safetensors"),
    ],
)
def test_the_experts_of_one_release_share_a_stem(high: str, low: str) -> None:
    """Without expert, rank and precision words the two experts' names are the same."""
    assert sibling_stem(high) == sibling_stem(low)


@pytest.mark.parametrize(
    ("name", "stem"),
    [
        (
            "Wan22_A14B_T2V_HIGH_Lightning_4steps_lora_250928_rank128_fp16.safetensors",
            "Wan22_A14B_T2V_Lightning_4steps_lora_250928",
        ),
        ("cinematic_high_quality_lora.safetensors", "cinematic_high_quality_lora"),
        ("LoRAs/rCM/Wan_2_1_T2V_14B_rCM_lora_average_rank_148_bf16.safetensors", "Wan_2_1_T2V_14B_rCM_lora"),
        ("pack/motion-low.safetensors", "motion"),
    ],
)
def test_a_stem_keeps_every_word_that_is_not_a_claim(name: str, stem: str) -> None:
    """Folders and the extension go; ``high_quality`` stays; separators left behind become one."""
    assert sibling_stem(name) == stem


@pytest.mark.parametrize(
    ("claims", "claimed"),
    [
        (Claims(rank=64, precision="fp8_e4m3fn"), {"rank": 64, "precision": "fp8_e4m3"}),
        (Claims(rank=16, precision="fp8_e5m2"), {"rank": 16, "precision": "fp8_e5m2"}),
        (Claims(precision="fp8"), {}),
        (
            Claims(rank_adaptive=True, average_rank=148, precision="bf16"),
            {"rank": "adaptive", "average_rank": 148, "precision": "bf16"},
        ),
        (claims_from_filename("lora_float16"), {"precision": "fp16"}),
    ],
)
def test_claimed_rank_and_precision_use_the_catalog_spelling(
    claims: Claims, claimed: dict[str, object]
) -> None:
    """``fp8_e4m3fn`` in a name is the catalog's ``fp8_e4m3``; a bare ``fp8`` names no catalog precision."""
    assert claimed_fields(claims) == claimed


def test_one_map_between_catalog_and_header_precisions() -> None:
    """Every catalog precision of a safetensors file reads back from the header analysis's dtype name."""
    assert {
        dtype: CATALOG_PRECISION[dtype_name(dtype)] for dtype in ("F32", "BF16", "F16", "F8_E4M3", "F8_E5M2")
    } == {
        "F32": "fp32",
        "BF16": "bf16",
        "F16": "fp16",
        "F8_E4M3": "fp8_e4m3",
        "F8_E5M2": "fp8_e5m2",
    }
    assert all(CATALOG_PRECISION[name] == precision for precision, name in HEADER_PRECISION.items())


def test_a_new_entry_says_what_the_name_claims_and_nothing_else() -> None:
    """No expert for ``high_quality``, no generation or task the name does not state; listed, in file order."""
    path = "styles/cinematic_high_quality_lora_rank32_fp8_e4m3fn.safetensors"
    assert lora_fields("cinematic", "someone/styles", path) == {
        "id": "cinematic",
        "file": {"repo": "someone/styles", "path": path},
        "family": "other",
        "claimed": {"rank": 32, "precision": "fp8_e4m3"},
        "recommendation": "listed",
    }
    fields = lora_fields("x", "o/r", "Wan22_HIGH.safetensors")
    ordered = in_field_order({"added": "today", "generation": "2.1", **fields})
    assert list(ordered.items()) == [
        ("id", "x"),
        ("file", {"repo": "o/r", "path": "Wan22_HIGH.safetensors"}),
        ("generation", "2.2"),
        ("expert", "high"),
        ("family", "other"),
        ("recommendation", "listed"),
        ("added", "today"),
    ]


def test_a_field_outside_the_entry_order_is_refused() -> None:
    """A misspelt field is a caller's mistake, never silently dropped."""
    with pytest.raises(ValueError, match="expertise"):
        in_field_order({"id": "x", "expertise": "high"})


@pytest.mark.parametrize(
    ("path", "entry_id"),
    [
        ("LoRAs/Wan22_A14B_T2V_HIGH_Lightning_rank128.safetensors", "wan22-a14b-t2v-high-lightning-rank128"),
        (
            "split_files/loras/wan2.2_t2v_lightx2v_4steps_lora_v1.1_high_noise.safetensors",
            "wan2.2-t2v-lightx2v-4steps-lora-v1.1-high-noise",
        ),
        ("a/--Ünïcode..name__.safetensors", "n-code-name"),
        ("a/日本.safetensors", ""),
    ],
)
def test_the_id_of_a_file(path: str, entry_id: str) -> None:
    """Lower case, one separator between words, folders and extension dropped; empty when nothing is left."""
    assert file_slug(path) == entry_id
