"""Header analysis of Wan LoRAs: parsing, facts, base guesses and contradictions.

Every fixture is a synthetic header from :mod:`tests.safetensors_factory`, shaped after the examples of
wan-lora-format.md §8 and the edge cases of §9. Expected values are written out literally from the reference.
The fit verdicts are not judged here: headers built from this project's shape table cannot test them (issue 19);
``tests/test_comfyui_fit.py`` judges them on the writers' own layouts against ComfyUI's loader code.
"""

from __future__ import annotations

import json
import struct

import pytest

from generator.lora.analyse import analyse_header
from generator.lora.architectures import expected_shape, get_architecture
from generator.lora.claims import contradictions
from generator.lora.facts import Claims, HeaderFacts
from generator.lora.filename import claims_from_filename
from generator.lora.keys import canonicalise, split_key
from generator.lora.parse import HeaderError, TensorSpec, header_from_bytes
from tests.safetensors_factory import file_size, make_lora_header, payload_size, serialize_header

T2V_TYPE_14B = ("wan2.1-t2v-14b", "wan2.2-t2v-a14b", "wan2.2-i2v-a14b")


def analyse(header: bytes, filename: str = "lora.safetensors") -> HeaderFacts:
    """Parse header bytes and analyse them, as the Hub-facing caller will."""
    tensors, metadata = header_from_bytes(header)
    return analyse_header(tensors, metadata, filename)


# ------------------------------------------------------------------------------------ architectures


@pytest.mark.parametrize(
    ("arch_id", "label", "dim", "ffn_dim", "layers", "in_dim", "out_dim", "clip"),
    [
        ("wan2.1-t2v-1.3b", "Wan 2.1 T2V 1.3B", 1536, 8960, 30, 16, 16, False),
        ("wan2.1-t2v-14b", "Wan 2.1 T2V 14B", 5120, 13824, 40, 16, 16, False),
        ("wan2.1-i2v-14b", "Wan 2.1 I2V 14B", 5120, 13824, 40, 36, 16, True),
        ("wan2.2-t2v-a14b", "Wan 2.2 T2V A14B", 5120, 13824, 40, 16, 16, False),
        ("wan2.2-i2v-a14b", "Wan 2.2 I2V A14B", 5120, 13824, 40, 36, 16, False),
        ("wan2.2-ti2v-5b", "Wan 2.2 TI2V 5B", 3072, 14336, 30, 48, 48, False),
    ],
)
def test_architecture_table(
    arch_id: str, label: str, dim: int, ffn_dim: int, layers: int, in_dim: int, out_dim: int, clip: bool
) -> None:
    """The six architectures carry the §2 dimensions; only Wan 2.1 I2V has the CLIP branch."""
    arch = get_architecture(arch_id)
    assert (arch.label, arch.dim, arch.ffn_dim, arch.layers) == (label, dim, ffn_dim, layers)
    assert (arch.in_dim, arch.out_dim, arch.has_clip_branch) == (in_dim, out_dim, clip)


@pytest.mark.parametrize(
    ("arch_id", "module", "weight", "bias"),
    [
        ("wan2.1-t2v-1.3b", "blocks.0.ffn.0", (8960, 1536), (8960,)),
        ("wan2.2-ti2v-5b", "blocks.29.ffn.2", (3072, 14336), (3072,)),
        ("wan2.1-t2v-14b", "time_projection.1", (30720, 5120), (30720,)),
        ("wan2.2-ti2v-5b", "head.head", (192, 3072), (192,)),
        ("wan2.1-t2v-14b", "head.head", (64, 5120), (64,)),
        ("wan2.1-i2v-14b", "patch_embedding", (5120, 36, 1, 2, 2), (5120,)),
        ("wan2.1-i2v-14b", "img_emb.proj.3", (5120, 1280), (5120,)),
        ("wan2.1-t2v-14b", "text_embedding.0", (5120, 4096), (5120,)),
        ("wan2.1-t2v-14b", "blocks.3.self_attn.norm_q", (5120,), None),
        ("wan2.1-t2v-14b", "blocks.3.modulation", (1, 6, 5120), None),
    ],
)
def test_expected_shapes(
    arch_id: str, module: str, weight: tuple[int, ...], bias: tuple[int, ...] | None
) -> None:
    """Expected parameter shapes follow §3.3."""
    shape = expected_shape(get_architecture(arch_id), module)
    assert shape is not None
    assert (shape.weight, shape.bias) == (weight, bias)


@pytest.mark.parametrize(
    ("arch_id", "module"),
    [
        ("wan2.2-i2v-a14b", "blocks.0.cross_attn.k_img"),
        ("wan2.1-t2v-14b", "img_emb.proj.1"),
        ("wan2.1-t2v-1.3b", "blocks.30.self_attn.q"),
        ("wan2.1-i2v-14b", "img_emb.emb_pos"),
        ("wan2.1-t2v-14b", "vace_patch_embedding"),
    ],
)
def test_absent_modules(arch_id: str, module: str) -> None:
    """CLIP-branch modules off Wan 2.1 I2V, blocks beyond ``layers`` and VACE/FLF parts are absent."""
    assert expected_shape(get_architecture(arch_id), module) is None


def test_unknown_architecture_names_the_known_ids() -> None:
    """A typo in an architecture id fails loudly with the list of valid ids."""
    with pytest.raises(KeyError, match=r"wan2\.1-t2v-1\.3b"):
        get_architecture("wan2.3-t2v")


# -------------------------------------------------------------------------------- parsing, factory


def test_header_from_bytes_reads_tensors_and_metadata() -> None:
    """The u64le length prefix and JSON give sorted tensor specs and string metadata."""
    header = serialize_header({"b": ("BF16", (2, 3)), "a": ("F32", ())}, {"format": "pt"})
    tensors, metadata = header_from_bytes(header + b"\x00" * 32)
    assert tensors == {"a": TensorSpec(dtype="F32", shape=()), "b": TensorSpec(dtype="BF16", shape=(2, 3))}
    assert list(tensors) == ["a", "b"]
    assert metadata == {"format": "pt"}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x01\x00", "fewer than 8 bytes"),
        (struct.pack("<Q", 100) + b"{}", "only 2 follow"),
        (struct.pack("<Q", 26_000_000), "exceeds"),
        (struct.pack("<Q", 4) + b"{no}", "not JSON"),
        (struct.pack("<Q", 2) + b"[]", "not an object"),
        (struct.pack("<Q", 15) + b'{"x":{"a":1}}  ', "lacks dtype"),
    ],
)
def test_header_from_bytes_rejects_broken_headers(data: bytes, message: str) -> None:
    """Truncated, oversized or malformed headers raise :class:`HeaderError` with the cause."""
    with pytest.raises(HeaderError, match=message):
        header_from_bytes(data)


def test_factory_pads_and_orders_like_the_serializer() -> None:
    """JSON is padded to 8 bytes; F32 alphas sit before BF16 weights in the data area (§1)."""
    header = make_lora_header("wan2.1-t2v-1.3b", "kohya", 4, alpha=True, alpha_dtype="F32", blocks=[0])
    (size,) = struct.unpack("<Q", header[:8])
    assert size % 8 == 0
    assert len(header) == 8 + size
    body = json.loads(header[8:])
    first = min((v["data_offsets"][0], k) for k, v in body.items())
    assert first[1].endswith(".alpha")


@pytest.mark.parametrize(
    ("arch", "rank", "dtype", "i2v", "expected"),
    [
        ("wan2.1-t2v-14b", 64, "BF16", False, 630_697_104),
        ("wan2.1-t2v-14b", 128, "BF16", False, 1_253_192_432),
        ("wan2.1-t2v-14b", 64, "F16", False, 630_695_648),
        ("wan2.1-t2v-14b", 256, "F16", False, 2_498_179_664),
        ("wan2.1-i2v-14b", 128, "BF16", True, 1_466_506_280),
    ],
)
def test_kijai_layout_reproduces_published_file_sizes(
    arch: str, rank: int, dtype: str, i2v: bool, expected: int
) -> None:
    """The Kijai extraction layout gives the §7 byte-exact sizes of real published files."""
    assert file_size(make_lora_header(arch, "comfyui", rank, dtype, i2v=i2v, diff=True)) == expected


def test_lightning_layout_reproduces_published_file_size() -> None:
    """Blocks-only with F16 alpha and ``{"format":"pt"}`` is the 613,561,776-byte Lightning LOW file."""
    header = make_lora_header("wan2.2-i2v-a14b", "comfyui", 64, "F16", alpha=True, metadata={"format": "pt"})
    assert file_size(header) == 613_561_776
    assert payload_size(header) == file_size(header) - len(header)


# ----------------------------------------------------------------------------- §8 A: diffusion-pipe


@pytest.fixture(scope="module", name="example_a")
def fixture_example_a() -> tuple[bytes, HeaderFacts]:
    """§8 A: Wan 2.1 T2V 14B, rank 64, diffusion-pipe, BF16, ``{"format":"pt"}``."""
    header = make_lora_header("wan2.1-t2v-14b", "diffusion-pipe", 64, metadata={"format": "pt"})
    return header, analyse(header, "my_style_lora_epoch20.safetensors")


class TestExampleA:
    """diffusion-pipe (format A′) on the 14B T2V-type shapes."""

    def test_format_and_size(self, example_a: tuple[bytes, HeaderFacts]) -> None:
        """800 tensors with PEFT suffixes after ``diffusion_model.`` and no alpha: A′ (``comfyui-peft``, a layout
        three tools write, so no single writer is named without metadata); header ≈ 100 KB."""
        header, facts = example_a
        assert (facts.key_format, facts.suffix_family, facts.tensor_count) == (
            "comfyui-peft",
            "lora_A/lora_B",
            800,
        )
        assert facts.writer is None
        assert "diffusion-pipe, musubi-tuner's convert_lora.py --target other, or ai-toolkit" in facts.layout
        assert 90_000 < len(header) < 110_000

    def test_rank_precision_dims(self, example_a: tuple[bytes, HeaderFacts]) -> None:
        """Rank 64 uniform, bf16, dim 5120 / ffn 13824, all 40 blocks, no image keys, scale 1.0."""
        facts = example_a[1]
        assert (facts.rank.kind, facts.rank.nominal, facts.rank.capped) == ("uniform", 64, ())
        assert facts.precision.label == "bf16"
        assert (facts.dims.dim, facts.dims.ffn_dim, facts.dims.in_dim) == (5120, 13824, None)
        assert (facts.blocks_covered.count, facts.blocks_covered.layers_seen) == (40, 40)
        assert facts.i2v_keys == 0
        assert (facts.alpha.scale, facts.alpha.note) == (1.0, "1.0 (no alpha tensors)")
        assert facts.module_families == ("cross_attn", "ffn", "self_attn")

    def test_base_is_ambiguous(self, example_a: tuple[bytes, HeaderFacts]) -> None:
        """Without path hints the base stays ambiguous among the 14B T2V-type models."""
        guess = example_a[1].base_guess
        assert (guess.architecture, guess.candidates, guess.confidence) == (None, T2V_TYPE_14B, "low")
        assert any("high-noise from the low-noise" in n for n in example_a[1].notes)


# --------------------------------------------------------------------------- §8 B: Kijai I2V r256


@pytest.fixture(scope="module", name="example_b")
def fixture_example_b() -> tuple[bytes, HeaderFacts]:
    """§8 B: Kijai lightx2v I2V 480p extraction, rank 256, bf16, diff/diff_b, no alpha, no metadata."""
    header = make_lora_header("wan2.1-i2v-14b", "comfyui", 256, i2v=True, diff=True)
    return header, analyse(header, "lightx2v_I2V_14B_480p_cfg_step_distill_rank256_bf16.safetensors")


class TestExampleB:
    """ComfyUI/Kijai format A with full deltas and the CLIP branch."""

    def test_format_and_size(self, example_b: tuple[bytes, HeaderFacts]) -> None:
        """1,749 tensors, format A with diff and diff_b; the header is over 100 KB (≈ 218 KB)."""
        header, facts = example_b
        assert (facts.key_format, facts.tensor_count, facts.has_diff, facts.has_diff_b) == (
            "comfyui",
            1749,
            True,
            True,
        )
        assert 210_000 < len(header) < 225_000
        assert facts.unmatched_keys == 0

    def test_rank_with_capped_head(self, example_b: tuple[bytes, HeaderFacts]) -> None:
        """``head.head`` is capped at 64 yet the rank is uniform 256."""
        rank = example_b[1].rank
        assert (rank.kind, rank.nominal, rank.min, rank.max, rank.capped) == (
            "uniform",
            256,
            256,
            256,
            ("head.head",),
        )
        assert any("capped" in n and "head.head" in n for n in example_b[1].notes)

    def test_image_branch_and_dims(self, example_b: tuple[bytes, HeaderFacts]) -> None:
        """290 image-branch keys (7 per block × 40 + 10 ``img_emb``); in_dim is not observable."""
        facts = example_b[1]
        assert facts.i2v_keys == 290
        assert {"cross_attn_img", "img_emb", "norms", "head"} <= set(facts.module_families)
        assert (facts.dims.dim, facts.dims.in_dim, facts.dims.out_dim, facts.dims.freq_dim) == (
            5120,
            None,
            16,
            256,
        )
        assert facts.precision.label == "bf16"

    def test_base_guess(self, example_b: tuple[bytes, HeaderFacts]) -> None:
        """CLIP keys identify Wan 2.1 I2V from shape alone."""
        guess = example_b[1].base_guess
        assert (guess.architecture, guess.confidence, guess.source) == ("wan2.1-i2v-14b", "high", "shape")

    def test_json_round_trip(self, example_b: tuple[bytes, HeaderFacts]) -> None:
        """Facts survive a JSON snapshot and ``model_validate``."""
        facts = example_b[1]
        assert HeaderFacts.model_validate(json.loads(facts.model_dump_json())) == facts


# ------------------------------------------------------------------------- §8 C: Lightning-style


@pytest.fixture(scope="module", name="example_c")
def fixture_example_c() -> HeaderFacts:
    """§8 C: Wan 2.2 I2V A14B high-noise Lightning LoRA: format A with F32 alpha, 10 modules per block."""
    header = make_lora_header("wan2.2-i2v-a14b", "comfyui", 64, alpha=True, alpha_dtype="F32")
    return analyse(
        header, "Wan2.2-Lightning/Wan2.2-I2V-A14B-4steps-lora-rank64-Seko-V1/high_noise_model.safetensors"
    )


class TestExampleC:
    """Alpha tensors, and I2V/high-noise known only from the path."""

    def test_format_rank_alpha(self, example_c: HeaderFacts) -> None:
        """Format A (alpha makes it ComfyUI, not diffusion-pipe); alpha values are in the data area."""
        assert (example_c.key_format, example_c.tensor_count, example_c.rank.nominal) == ("comfyui", 1200, 64)
        assert (example_c.alpha.pairs, example_c.alpha.with_alpha, example_c.alpha.tensor_dtypes) == (
            400,
            400,
            ("fp32",),
        )
        assert (example_c.alpha.scale, example_c.alpha.note) == (None, "unknown (alpha in data)")

    def test_precision_ignores_alpha(self, example_c: HeaderFacts) -> None:
        """F32 alphas do not make the precision mixed."""
        assert example_c.precision.label == "bf16"
        assert example_c.precision.shares == {"bf16": 1.0}

    def test_shape_cannot_tell(self, example_c: HeaderFacts) -> None:
        """No image keys: indistinguishable from a T2V LoRA by shape; the path names I2V and high noise."""
        assert example_c.i2v_keys == 0
        guess = example_c.base_guess
        assert (guess.architecture, guess.source, guess.confidence, guess.noise_level) == (
            "wan2.2-i2v-a14b",
            "filename",
            "medium",
            "high",
        )
        assert guess.candidates == ("wan2.2-i2v-a14b",)
        assert any("Wan 2.1 T2V 14B LoRA from a Wan 2.2 A14B" in n for n in example_c.notes)

    def test_name_is_consistent(self, example_c: HeaderFacts) -> None:
        """The Lightning path agrees with the header."""
        claims = claims_from_filename(
            "Wan2.2-I2V-A14B-4steps-lora-rank64-Seko-V1/high_noise_model.safetensors"
        )
        assert contradictions(example_c, claims) == []


# --------------------------------------------------------------------------------- §8 D: diffusers


@pytest.fixture(scope="module", name="example_d")
def fixture_example_d() -> HeaderFacts:
    """§8 D: diffusers Wan 2.1 T2V 14B, rank 32, fp32, ``lora_adapter_metadata``."""
    config = {"r": 32, "lora_alpha": 32, "target_modules": ["to_q", "to_k"], "rank_pattern": {}}
    header = make_lora_header(
        "wan2.1-t2v-14b", "diffusers", 32, "F32", metadata={"lora_adapter_metadata": json.dumps(config)}
    )
    return analyse(header, "pytorch_lora_weights.safetensors")


class TestExampleD:
    """diffusers names canonicalise to the original Wan modules."""

    def test_facts(self, example_d: HeaderFacts) -> None:
        """Format C, rank 32, fp32, self_attn/cross_attn/ffn, alpha 32 from metadata (scale 1)."""
        assert (example_d.key_format, example_d.suffix_family, example_d.tensor_count) == (
            "diffusers",
            "lora_A/lora_B",
            800,
        )
        assert (example_d.rank.nominal, example_d.precision.label) == (32, "fp32")
        assert example_d.module_families == ("cross_attn", "ffn", "self_attn")
        assert (example_d.alpha.metadata_alpha, example_d.alpha.scale) == (32.0, 1.0)
        assert (example_d.dims.dim, example_d.dims.ffn_dim) == (5120, 13824)

    def test_a_true_name_is_no_contradiction_where_nothing_loads(self, example_d: HeaderFacts) -> None:
        """Native ComfyUI loads no diffusers name (every verdict ``no``), yet the shapes are Wan 2.1 T2V 14B's:
        contradictions compare a name with what the file was made for, never with what loads (issue 19)."""
        assert {v.verdict for v in example_d.fits.values()} == {"no"}
        assert contradictions(example_d, claims_from_filename("Wan2.1_T2V_14B_style.safetensors")) == []
        assert contradictions(example_d, claims_from_filename("Wan2.1_T2V_1.3B_style.safetensors")) == [
            "name says Wan 2.1 T2V 1.3B but the shapes fit only Wan 2.1 T2V 14B, Wan 2.1 I2V 14B, "
            "Wan 2.2 T2V A14B, Wan 2.2 I2V A14B"
        ]

    def test_diffusers_names_note(self, example_d: HeaderFacts) -> None:
        """A note names the spelling; what ComfyUI does with it is the verdict's reason, said there only."""
        (note,) = [n for n in example_d.notes if "diffusers module names" in n]
        assert (
            note
            == "800 keys use diffusers module names (attn1/attn2, to_out.0, ffn.net …), the names diffusers loads"
        )


# ----------------------------------------------------------------------------- §8 E: kohya 1.3B

_MUSUBI_METADATA = {
    "ss_network_module": "networks.lora_wan",
    "ss_network_dim": "32",
    "ss_network_alpha": "16.0",
    "ss_base_model_version": "wan",
    "ss_sd_model_name": "wan2.1_t2v_1.3B_bf16.safetensors",
    "modelspec.architecture": "wan2.1/lora",
}


@pytest.fixture(scope="module", name="example_e")
def fixture_example_e() -> HeaderFacts:
    """§8 E: musubi-tuner Wan 2.1 T2V 1.3B, rank 32, BF16 alphas, ``ss_*`` metadata."""
    header = make_lora_header("wan2.1-t2v-1.3b", "kohya", 32, alpha=True, metadata=_MUSUBI_METADATA)
    return analyse(header, "my_lora.safetensors")


class TestExampleE:
    """kohya/musubi format B on the 1.3B model."""

    def test_facts(self, example_e: HeaderFacts) -> None:
        """Format B, 900 tensors, rank 32, bf16, alpha 16 from metadata (scale 0.5), dim 1536, 30/30 blocks."""
        assert (example_e.key_format, example_e.tensor_count, example_e.rank.nominal) == ("kohya", 900, 32)
        assert example_e.precision.label == "bf16"
        assert (example_e.alpha.metadata_alpha, example_e.alpha.scale) == (16.0, 0.5)
        assert example_e.dims.dim == 1536
        assert (example_e.blocks_covered.count, example_e.blocks_covered.layers_seen) == (30, 30)

    def test_base_guess(self, example_e: HeaderFacts) -> None:
        """dim 1536 pins the 1.3B model from shape alone."""
        assert (example_e.base_guess.architecture, example_e.base_guess.source) == (
            "wan2.1-t2v-1.3b",
            "shape",
        )


# ----------------------------------------------------------------------------------- other formats


@pytest.mark.parametrize(
    ("fmt", "alpha", "key_format", "suffix_family"),
    [
        ("comfyui", False, "comfyui", "lora_down/lora_up"),
        ("diffusion-pipe", False, "comfyui-peft", "lora_A/lora_B"),
        ("diffusion-pipe", True, "comfyui", "lora_A/lora_B"),
        ("kohya", True, "kohya", "lora_down/lora_up"),
        ("videox-fun", True, "videox-fun", "lora_down/lora_up"),
        ("diffusers", False, "diffusers", "lora_A/lora_B"),
        ("peft-other", False, "peft-other", "lora_A/lora_B"),
    ],
)
def test_key_formats(fmt: str, alpha: bool, key_format: str, suffix_family: str) -> None:
    """Each writer's prefix and suffixes are recognised and canonicalise to the same modules."""
    header = make_lora_header("wan2.1-i2v-14b", fmt, 16, alpha=alpha, i2v=True, blocks=[0, 1])  # type: ignore[arg-type]
    facts = analyse(header)
    assert (facts.key_format, facts.suffix_family, facts.unmatched_keys) == (key_format, suffix_family, 0)
    assert facts.i2v_keys == 2 * 2 * (3 if alpha else 2)
    assert set(facts.modules) >= {"blocks.*.cross_attn.k_img", "blocks.*.self_attn.o", "blocks.*.ffn.0"}


def test_mixed_separators_and_formats() -> None:
    """Dotted and underscored kohya keys still canonicalise; two formats at 50/50 report ``mixed``."""
    tensors = {
        "lora_unet_blocks_22.self_attn.k.lora_down.weight": ("BF16", (8, 5120)),
        "lora_unet_blocks_22.self_attn.k.lora_up.weight": ("BF16", (5120, 8)),
        "diffusion_model.blocks.22.self_attn.q.lora_down.weight": ("BF16", (8, 5120)),
        "diffusion_model.blocks.22.self_attn.q.lora_up.weight": ("BF16", (5120, 8)),
    }
    facts = analyse(serialize_header(tensors))
    assert facts.key_format == "mixed"
    assert facts.format_votes == {"comfyui": 2, "kohya": 2}
    assert set(facts.modules) == {"blocks.*.self_attn.k", "blocks.*.self_attn.q"}


def test_unknown_prefix_is_not_wan() -> None:
    """HunyuanVideo-style ``double_blocks`` keys give format ``unknown`` and no base guess."""
    tensors = {
        f"diffusion_model.double_blocks.{i}.img_attn.qkv.lora_{r}.weight": ("BF16", (16, 3072))
        for i in range(3)
        for r in ("A", "B")
    }
    facts = analyse(serialize_header(tensors))
    assert (facts.key_format, facts.unmatched_keys, facts.modules) == ("unknown", 6, {})
    assert facts.base_guess.confidence == "none"
    assert any("does not look like a Wan LoRA" in n for n in facts.notes)


# -------------------------------------------------------------------------------- rank edge cases


@pytest.fixture(scope="module", name="adaptive")
def fixture_adaptive() -> HeaderFacts:
    """A Kijai adaptive-rank extraction: ranks cycle 16/32/64/128 over the modules."""
    header = make_lora_header("wan2.1-t2v-14b", "comfyui", 0, diff=True, adaptive_ranks=[16, 32, 64, 128])
    return analyse(
        header, "lightx2v_14B_T2V_cfg_step_distill_lora_adaptive_rank_quantile_0.15_bf16.safetensors"
    )


class TestAdaptiveRank:
    """Per-module ranks are summarised, never reduced to one module's rank."""

    def test_summary(self, adaptive: HeaderFacts) -> None:
        """Kind adaptive, no nominal rank, min/max/mean/median over the modules."""
        rank = adaptive.rank
        assert (rank.kind, rank.nominal, rank.min, rank.max) == ("adaptive", None, 16, 128)
        assert (rank.mean, rank.median, rank.modules) == (59.82, 32.0, 406)
        assert rank.weighted_mean is not None
        assert 16 < rank.weighted_mean < 128

    def test_adaptive_name_is_consistent(self, adaptive: HeaderFacts) -> None:
        """The ``adaptive_rank_quantile_0.15`` name agrees with the header."""
        name = "lightx2v_14B_T2V_cfg_step_distill_lora_adaptive_rank_quantile_0.15_bf16"
        assert contradictions(adaptive, claims_from_filename(name)) == []

    @pytest.mark.parametrize(
        ("name", "message"),
        [
            ("lora_average_rank_148_bf16", "name says average rank 148 but the header's mean rank is 59.82"),
            ("lora_rank64_bf16", "name says rank 64 but the header has adaptive ranks 16–128"),
        ],
    )
    def test_wrong_rank_claims(self, adaptive: HeaderFacts, name: str, message: str) -> None:
        """A far-off average or a fixed rank claim contradicts an adaptive header."""
        found = contradictions(adaptive, claims_from_filename(name))
        assert len(found) == 1
        assert found[0].startswith(message)

    def test_close_average_is_accepted(self, adaptive: HeaderFacts) -> None:
        """An average within tolerance of the computed mean is no contradiction."""
        assert adaptive.rank.mean is not None
        claims = Claims(rank_adaptive=True, average_rank=round(adaptive.rank.mean) + 1)
        assert contradictions(adaptive, claims) == []


def test_adaptive_claim_on_uniform_header(example_a: tuple[bytes, HeaderFacts]) -> None:
    """A name claiming adaptive rank on a uniform header is contradicted."""
    found = contradictions(example_a[1], claims_from_filename("lora_adaptive_rank_ratio_0.5"))
    assert found == ["name says adaptive rank but every module has rank 64"]


def test_diff_only_file_has_no_rank() -> None:
    """Full-delta files have no rank; a rank claim on them is contradicted."""
    tensors = {f"diffusion_model.blocks.{i}.norm3.diff": ("BF16", (5120,)) for i in range(40)}
    facts = analyse(serialize_header(tensors))
    assert (facts.rank.kind, facts.suffix_family, facts.alpha.pairs) == ("none", "none", 0)
    assert contradictions(facts, Claims(rank=32)) == ["name says rank 32 but the file has no LoRA pairs"]


# ------------------------------------------------------------------------------------- TI2V 5B, FP8


@pytest.fixture(scope="module", name="ti2v")
def fixture_ti2v() -> HeaderFacts:
    """A Kijai-layout LoRA extracted from Wan 2.2 TI2V 5B, rank 64, FP8 E4M3."""
    header = make_lora_header("wan2.2-ti2v-5b", "comfyui", 64, "F8_E4M3", diff=True)
    return analyse(header, "Wan2.2-TI2V-5B_turbo_lora_rank64_fp8_e4m3fn.safetensors")


class TestTI2V5B:
    """The 5B model: 30 blocks like 1.3B, but dim 3072 and out_dim 48."""

    def test_facts(self, ti2v: HeaderFacts) -> None:
        """1,099 tensors; dim 3072, ffn 14336, out_dim 48; head.head (192 wide) is not capped at 64."""
        assert ti2v.tensor_count == 1099
        assert (ti2v.dims.dim, ti2v.dims.ffn_dim, ti2v.dims.out_dim) == (3072, 14336, 48)
        assert (ti2v.rank.kind, ti2v.rank.nominal, ti2v.rank.capped) == ("uniform", 64, ())
        assert ti2v.precision.label == "fp8_e4m3fn"

    def test_base_guess(self, ti2v: HeaderFacts) -> None:
        """dim 3072 is the 5B model, from shape alone, despite the block count it shares with 1.3B."""
        guess = ti2v.base_guess
        assert (guess.architecture, guess.confidence, guess.source) == ("wan2.2-ti2v-5b", "high", "shape")

    def test_name_is_consistent(self, ti2v: HeaderFacts) -> None:
        """Rank, fp8 and Wan 2.2 TI2V 5B in the name all agree."""
        claims = claims_from_filename("Wan2.2-TI2V-5B_turbo_lora_rank64_fp8_e4m3fn.safetensors")
        assert contradictions(ti2v, claims) == []


# ------------------------------------------------------------------------------ patch_embedding


def test_t2v_patch_embedding_narrows_the_base() -> None:
    """A LightX2V-style T2V ``patch_embedding.diff`` shows in_dim 16: a T2V base, Wan 2.1 or 2.2."""
    extra = {"diffusion_model.patch_embedding.diff": ("BF16", (5120, 16, 1, 2, 2))}
    facts = analyse(make_lora_header("wan2.1-t2v-14b", "comfyui", 32, diff=True, extra=extra))
    assert facts.dims.in_dim == 16
    assert facts.base_guess.candidates == ("wan2.1-t2v-14b", "wan2.2-t2v-a14b")


I2V_PATCH_EMBEDDINGS = {
    "diff": {"diffusion_model.patch_embedding.diff": ("BF16", (5120, 36, 1, 2, 2))},
    "conv-lora": {
        "diffusion_model.patch_embedding.lora_down.weight": ("BF16", (32, 36, 1, 2, 2)),
        "diffusion_model.patch_embedding.lora_up.weight": ("BF16", (5120, 32, 1, 1, 1)),
    },
}


@pytest.mark.parametrize("extra", I2V_PATCH_EMBEDDINGS.values(), ids=I2V_PATCH_EMBEDDINGS)
def test_i2v_patch_embedding_without_clip_keys_is_ambiguous(
    extra: dict[str, tuple[str, tuple[int, ...]]],
) -> None:
    """A 36-channel ``patch_embedding`` (full diff or Conv3d LoRA) without image-branch keys is what a Wan 2.1 I2V
    14B LoRA that leaves the CLIP branch alone and a Wan 2.2 I2V A14B LoRA both show (issue 19): no high-confidence
    guess from shape, and a name that says nothing leaves it open."""
    facts = analyse(make_lora_header("wan2.2-i2v-a14b", "comfyui", 32, diff=True, extra=extra))
    assert facts.dims.in_dim == 36
    guess = facts.base_guess
    assert (guess.architecture, guess.confidence) == (None, "low")
    assert guess.candidates == guess.shape_candidates == ("wan2.1-i2v-14b", "wan2.2-i2v-a14b")
    assert any("cannot tell a Wan 2.1 I2V 14B LoRA from a Wan 2.2 I2V A14B one" in n for n in facts.notes)


@pytest.mark.parametrize(
    ("filename", "architecture"),
    [
        ("Wan2.2_I2V_A14B_lightx2v_rank32.safetensors", "wan2.2-i2v-a14b"),
        ("Wan2.1_I2V_14B_480p_style.safetensors", "wan2.1-i2v-14b"),
    ],
)
def test_i2v_patch_embedding_consults_the_file_name(filename: str, architecture: str) -> None:
    """With the shapes undecided between the two I2V bases, the file name decides, at medium confidence."""
    header = make_lora_header("wan2.2-i2v-a14b", "comfyui", 32, diff=True, extra=I2V_PATCH_EMBEDDINGS["diff"])
    guess = analyse(header, filename).base_guess
    assert (guess.architecture, guess.source, guess.confidence) == (architecture, "filename", "medium")


# ----------------------------------------------------------------------------------- coverage


def test_partial_blocks_are_noted() -> None:
    """CausVid ``no_first_block``-style coverage: block 0 reported absent."""
    facts = analyse(make_lora_header("wan2.1-t2v-14b", "comfyui", 32, blocks=range(1, 40)))
    assert (facts.blocks_covered.count, facts.blocks_covered.absent) == (39, (0,))
    assert any(n == "partial blocks: no keys for block(s) 0" for n in facts.notes)


def test_modulation_diff_m_is_mapped() -> None:
    """LightX2V ``blocks.N.diff_m`` is the modulation delta (what ComfyUI does with it: test_comfyui_fit.py)."""
    tensors = {
        "diffusion_model.blocks.0.diff_m": ("BF16", (1, 6, 1536)),
        "diffusion_model.head.diff_m": ("BF16", (1, 2, 1536)),
    }
    facts = analyse(serialize_header(tensors))
    assert set(facts.modules) == {"blocks.*.modulation", "head.modulation"}
    assert facts.modules["blocks.*.modulation"][0].weight == (1, 6, 1536)


# ------------------------------------------------------------------------------ contradictions


def test_header_contradicting_its_name(example_a: tuple[bytes, HeaderFacts]) -> None:
    """A 14B rank-64 bf16 header named as a 1.3B rank-128 fp16 LoRA yields three messages."""
    claims = claims_from_filename("Wan2.1_T2V_1.3B_style_rank128_fp16.safetensors")
    assert contradictions(example_a[1], claims) == [
        "name says rank 128 but the header is rank 64",
        "name says fp16 but the tensors are bf16",
        "name says Wan 2.1 T2V 1.3B but the shapes fit only Wan 2.1 T2V 14B, Wan 2.1 I2V 14B, "
        "Wan 2.2 T2V A14B, Wan 2.2 I2V A14B",
    ]


def test_catalog_claim_against_a_1_3b_header(example_e: HeaderFacts) -> None:
    """A catalog entry saying Wan 2.2 14B for a 1.3B LoRA is contradicted by the shapes."""
    claims = Claims(source="catalog", generation="2.2", size_class="14B")
    assert contradictions(example_e, claims) == [
        "catalog says Wan 2.2 14B but the shapes fit only Wan 2.1 T2V 1.3B"
    ]


@pytest.mark.parametrize(
    ("claims", "expected"),
    [
        (Claims(task="T2V"), ["name says T2V but the file has 290 image-branch keys"]),
        (
            Claims(source="catalog", generation="2.2", task="I2V"),
            ["catalog says Wan 2.2 I2V but the file has 290 image-branch keys"],
        ),
        (Claims(generation="2.1", task="I2V", size_class="14B", rank=256, precision="bf16"), []),
        (Claims(precision="fp8"), ["name says fp8 but the tensors are bf16"]),
    ],
)
def test_claims_against_i2v_header(
    example_b: tuple[bytes, HeaderFacts], claims: Claims, expected: list[str]
) -> None:
    """Image-branch keys contradict T2V and Wan 2.2 claims; a correct claim is quiet."""
    assert contradictions(example_b[1], claims) == expected


def test_i2v_claim_against_t2v_patch_embedding() -> None:
    """An I2V claim on a LoRA whose patch_embedding has in_dim 16 is contradicted."""
    extra = {"diffusion_model.patch_embedding.diff": ("BF16", (5120, 16, 1, 2, 2))}
    facts = analyse(make_lora_header("wan2.1-t2v-14b", "comfyui", 32, extra=extra))
    assert contradictions(facts, Claims(task="I2V")) == [
        "name says I2V but patch_embedding has in_dim 16, not 36"
    ]


def test_mixed_precision_is_reported() -> None:
    """Half the weights in fp16 and half in bf16 is ``mixed``; an fp16 claim lists the shares."""
    tensors = {
        "diffusion_model.blocks.0.self_attn.q.lora_down.weight": ("BF16", (8, 1536)),
        "diffusion_model.blocks.0.self_attn.q.lora_up.weight": ("F16", (1536, 8)),
    }
    facts = analyse(serialize_header(tensors))
    assert facts.precision.label == "mixed"
    assert facts.precision.shares == {"bf16": 0.5, "fp16": 0.5}
    assert contradictions(facts, Claims(precision="fp16")) == [
        "name says fp16 but the tensors are mixed (bf16 50%, fp16 50%)"
    ]


# ------------------------------------------------------------------------------- filename claims


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        (
            "Wan_2_2_I2V_A14B_HIGH_lightx2v_MoE_distill_lora_rank_64_bf16.safetensors",
            Claims(
                rank=64, precision="bf16", generation="2.2", task="I2V", size_class="14B", noise_level="high"
            ),
        ),
        (
            "lightx2v_T2V_14B_cfg_step_distill_v2_lora_rank128_bf16.safetensors",
            Claims(rank=128, precision="bf16", task="T2V", size_class="14B"),
        ),
        (
            "Wan21_T2V_14B_lightx2v_cfg_step_distill_lora_rank32.safetensors",
            Claims(rank=32, generation="2.1", task="T2V", size_class="14B"),
        ),
        (
            "lightx2v_14B_T2V_cfg_step_distill_lora_adaptive_rank_quantile_0.15_bf16.safetensors",
            Claims(rank_adaptive=True, precision="bf16", task="T2V", size_class="14B"),
        ),
        ("my_lora_average_rank_148_fp16", Claims(rank_adaptive=True, average_rank=148, precision="fp16")),
        ("lora_resized_from_128_to_dynamic_96", Claims(rank_adaptive=True, average_rank=96)),
        (
            "Wan2.1-T2V-1.3B_r16_fp8_e4m3fn",
            Claims(rank=16, precision="fp8_e4m3fn", generation="2.1", task="T2V", size_class="1.3B"),
        ),
        ("Wan2.2-TI2V-5B-lora-rank256", Claims(rank=256, generation="2.2", task="TI2V", size_class="5B")),
        ("WAN22_LOW_lora.safetensors", Claims(generation="2.2", noise_level="low")),
        ("low_noise_model.safetensors", Claims(noise_level="low")),
        ("FLF2V_720p_lora", Claims(task="I2V")),
        ("flowers_lora_highres", Claims()),
    ],
)
def test_claims_from_filename(filename: str, expected: Claims) -> None:
    """Filename tokens give rank, adaptivity, precision, generation, task, size and noise level."""
    assert claims_from_filename(filename) == expected


# ------------------------------------------------------------------------------------- base guess


@pytest.mark.parametrize(
    ("metadata", "filename", "architecture", "source", "noise"),
    [
        (
            {"ss_sd_model_name": "wan2.2_t2v_high_noise_14B_fp16.safetensors"},
            "x.safetensors",
            "wan2.2-t2v-a14b",
            "metadata",
            "high",
        ),
        ({"modelspec.title": "Wan2.1 T2V 14B"}, "x_low.safetensors", "wan2.1-t2v-14b", "metadata", "low"),
        ({}, "Wan21_T2V_14B_lora.safetensors", "wan2.1-t2v-14b", "filename", None),
        ({}, "Wan2.2-T2V-A14B/low_noise_model.safetensors", "wan2.2-t2v-a14b", "filename", "low"),
        ({}, "lora_14B.safetensors", None, "shape", None),
    ],
)
def test_base_guess_hints(
    metadata: dict[str, str], filename: str, architecture: str | None, source: str, noise: str | None
) -> None:
    """Metadata, then path tokens, resolve the 14B T2V-type ambiguity; noise level comes from either."""
    tensors, _ = header_from_bytes(make_lora_header("wan2.1-t2v-14b", "kohya", 16, blocks=[0]))
    guess = analyse_header(tensors, metadata, filename).base_guess
    assert (guess.architecture, guess.source, guess.noise_level) == (architecture, source, noise)
    assert guess.shape_candidates == T2V_TYPE_14B


def test_lycoris_is_classified_without_rank_math() -> None:
    """LoHa keys are recognised as Wan modules and labelled LyCORIS (not by their prefix), but get no rank, and rank
    claims are not judged."""
    tensors = {
        f"lycoris_blocks_0_self_attn_q.hada_{part}": ("BF16", shape)
        for part, shape in (
            ("w1_a", (5120, 8)),
            ("w1_b", (8, 5120)),
            ("w2_a", (5120, 8)),
            ("w2_b", (8, 5120)),
        )
    }
    facts = analyse(serialize_header(tensors))
    assert (facts.key_format, facts.suffix_family, facts.rank.kind) == ("lycoris", "lycoris", "none")
    assert set(facts.modules) == {"blocks.*.self_attn.q"}
    assert contradictions(facts, Claims(rank=8)) == []


def test_invalid_shape_is_a_header_error() -> None:
    """A shape that is not a list of integers is reported as a header error."""
    body = b'{"a":{"dtype":"BF16","shape":"big","data_offsets":[0,0]}}'
    body += b" " * (-len(body) % 8)
    with pytest.raises(HeaderError, match="invalid shape"):
        header_from_bytes(struct.pack("<Q", len(body)) + body)


@pytest.mark.parametrize(
    ("key", "module", "role"),
    [
        ("diffusion_model.blocks.0.cross_attn.k_img.diff_b", "blocks.0.cross_attn.k_img", "diff_b"),
        ("model.diffusion_model.blocks.3.ffn.2.lora_up.weight", "blocks.3.ffn.2", "up"),
        ("lora_unet_blocks_0_cross_attn_norm_k_img.diff", "blocks.0.cross_attn.norm_k_img", "diff"),
        ("lora_unet__blocks_7_self_attn_norm_q.alpha", "blocks.7.self_attn.norm_q", "alpha"),
        ("lora_unet_img_emb_proj_1.lora_down.weight", "img_emb.proj.1", "down"),
        ("transformer.blocks.2.attn1.to_out.0.lora_A.weight", "blocks.2.self_attn.o", "down"),
        ("transformer.blocks.2.norm2.lora_B.bias", "blocks.2.norm3", "diff_b"),
        ("transformer.condition_embedder.time_proj.lora_B.bias", "time_projection.1", "diff_b"),
        ("transformer.condition_embedder.image_embedder.ff.net.2.lora_B.weight", "img_emb.proj.3", "up"),
        ("transformer.blocks.5.self_attn.q.lora_A.weight", "blocks.5.self_attn.q", "down"),
        ("base_model.model.blocks.5.self_attn.q.lora_A.weight", "blocks.5.self_attn.q", "down"),
        ("blocks.0.self_attn.q.lora_A.default.weight", "blocks.0.self_attn.q", "down"),
        ("pipe.dit.blocks.1.ffn.0.lora_B.weight", "blocks.1.ffn.0", "up"),
        ("diffusion_model.blocks.4.self_attn.q_loras.down.weight", "blocks.4.self_attn.q", "down"),
        ("diffusion_model.blocks.9.cross_attn.k.dora_scale", "blocks.9.cross_attn.k", "dora_scale"),
        ("diffusion_model.blocks.11.diff_m", "blocks.11.modulation", "diff_m"),
        ("diffusion_model.head.head.diff", "head.head", "diff"),
        ("diffusion_model.vace_blocks.0.after_proj.lora_down.weight", "vace_blocks.0.after_proj", "down"),
        ("diffusion_model.double_blocks.0.img_attn.qkv.lora_A.weight", None, "down"),
        ("lora_te_text_model_encoder_layers_0_mlp_fc1.lora_down.weight", None, "down"),
    ],
)
def test_key_canonicalisation(key: str, module: str | None, role: str) -> None:
    """Every §4 spelling maps to the original Wan module and role; non-Wan paths map to no module."""
    split = split_key(key)
    assert split is not None
    stem, found_role, _family = split
    assert found_role == role
    assert canonicalise(stem, modulation_owner=role == "diff_m")[1] == module


def test_diff_next_to_a_pair_is_reported() -> None:
    """A ``.diff`` on a module that also has a LoRA pair is counted and noted (ComfyUI applies the diff)."""
    tensors = {
        "diffusion_model.blocks.0.self_attn.q.lora_down.weight": ("BF16", (8, 1536)),
        "diffusion_model.blocks.0.self_attn.q.lora_up.weight": ("BF16", (1536, 8)),
        "diffusion_model.blocks.0.self_attn.q.diff": ("BF16", (1536, 1536)),
        "diffusion_model.blocks.0.self_attn.k.lora_down.weight": ("BF16", (8, 1536)),
        "diffusion_model.blocks.0.self_attn.v.alpha": ("BF16", ()),
    }
    facts = analyse(serialize_header(tensors))
    assert (facts.diff_overrides, facts.lone_halves, facts.orphan_alphas) == (1, 1, 1)
    assert any("ComfyUI applies the diff" in n for n in facts.notes)
