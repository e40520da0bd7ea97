"""LyCORIS LoHa/LoKr headers (issue 11 item 1) and the key spellings LyCORIS writers use (item 6).

Every header comes from a key list transcribed from the writer's code (``tests/fixtures/headers/``); the tests parse
the serialized bytes and analyse them. The verdicts are ComfyUI v0.29.0's (issue 19), each citing the code it follows.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from generator.lora.claims import contradictions
from generator.lora.comfyui_loader import COMFYUI_LABEL
from generator.lora.facts import Claims
from tests.header_analysis import analyse_fixture, analyse_table, verdicts
from tests.safetensors_factory import load_key_list

ONLY_1_3B = {
    "wan2.1-i2v-14b": "no",
    "wan2.1-t2v-1.3b": "fits",
    "wan2.1-t2v-14b": "no",
    "wan2.2-i2v-a14b": "no",
    "wan2.2-t2v-a14b": "no",
    "wan2.2-ti2v-5b": "no",
}
ATTENTION_AND_FFN = {
    *(f"blocks.*.{a}.{p}" for a in ("self_attn", "cross_attn") for p in "qkvo"),
    "blocks.*.ffn.0",
    "blocks.*.ffn.2",
}


@pytest.mark.parametrize(
    ("name", "algorithm", "writer"),
    [
        ("loha-musubi-wan21-t2v-1.3b.keys", "LoHa (hada_*)", "musubi-tuner (LoHa)"),
        ("lokr-musubi-wan21-t2v-1.3b.keys", "LoKr (lokr_*)", "musubi-tuner (LoKr)"),
    ],
)
def test_1_3b_lycoris_fits_only_1_3b(name: str, algorithm: str, writer: str) -> None:
    """A 1.3B LoHa/LoKr gets its shapes from the factors and is labelled LyCORIS, not comfyui. ``lora_unet_`` names
    load on every model (``comfy/lora.py:195``); the factor products fit 1.3B only and fail at merge elsewhere
    (``weight_adapter/loha.py:280-295``, ``lokr.py:348-363``)."""
    facts = analyse_fixture(name)
    assert verdicts(facts) == ONLY_1_3B
    assert (
        "300 patches fail at merge (shape mismatch with Wan 2.1 T2V 14B)"
        in facts.fits["wan2.1-t2v-14b"].reason
    )
    assert (facts.key_format, facts.suffix_family) == ("lycoris", "lycoris")
    assert facts.layout == f"lora_unet_* LyCORIS {algorithm}"
    assert facts.writer == writer
    assert (facts.dims.dim, facts.dims.ffn_dim) == (1536, 8960)
    assert facts.base_guess.architecture == "wan2.1-t2v-1.3b"
    assert set(facts.modules) == ATTENTION_AND_FFN
    assert (facts.unmatched_keys, facts.orphan_alphas, facts.duplicate_keys) == (0, 0, 0)
    assert not any("alpha tensor(s) have no LoRA pair" in n for n in facts.notes)


@pytest.mark.parametrize(
    "name", ["loha-musubi-wan21-t2v-1.3b.keys", "lokr-musubi-wan21-t2v-1.3b.keys"], ids=["loha", "lokr"]
)
def test_lycoris_factor_shapes(name: str) -> None:
    """LoHa: out = rows(w1_a), in = cols(w1_b); LoKr: out = 80·112 = 8960 and in = 32·48 = 1536 for ffn.0."""
    modules = analyse_fixture(name).modules
    shapes = {m: (e[0].out_features, e[0].in_features) for m, e in modules.items()}
    assert shapes["blocks.*.ffn.0"] == (8960, 1536)
    assert shapes["blocks.*.ffn.2"] == (1536, 8960)
    assert shapes["blocks.*.self_attn.q"] == (1536, 1536)


@pytest.mark.parametrize(
    "name",
    ["lokr-lycoris-diffusers-names-14b.keys", "lokr-aitoolkit-old-format-14b.keys"],
    ids=["lycoris", "ai-toolkit"],
)
def test_14b_lokr_under_lycoris_prefix(name: str) -> None:
    """``lycoris_blocks_N_attn1_to_q``, ``…_self_attn_to_out_0`` and ``…_ffn_net_0_proj`` all map onto Wan modules:
    no key is lost, so no false "attention only" note. Native ComfyUI maps no ``lycoris_`` name for Wan
    (``comfy/lora.py:187-198``; ``comfy/utils.py:336-338``): nothing applies on any model."""
    facts = analyse_fixture(name)
    assert facts.unmatched_keys == 0
    assert set(facts.modules) == ATTENTION_AND_FFN
    assert facts.module_families == ("cross_attn", "ffn", "self_attn")
    assert not any("attention only" in n for n in facts.notes)
    assert not any(
        "WanVideoWrapper" in n for n in facts.notes
    )  # its partial renaming is judged on transformer.* only
    assert set(verdicts(facts).values()) == {"no"}
    assert (
        "800 keys not loaded: native ComfyUI maps no lycoris_… names for Wan"
        in facts.fits["wan2.1-t2v-14b"].reason
    )
    assert (facts.dims.dim, facts.dims.ffn_dim) == (5120, 13824)
    assert (facts.key_format, facts.layout) == ("lycoris", "lycoris_* LyCORIS LoKr (lokr_*)")


def test_ai_toolkit_is_named_by_its_metadata() -> None:
    """ai-toolkit's ``software`` metadata names the writer; the LyCORIS wrapper file names none."""
    assert analyse_fixture("lokr-aitoolkit-old-format-14b.keys").writer == "ai-toolkit"
    assert analyse_fixture("lokr-lycoris-diffusers-names-14b.keys").writer is None


def test_lycoris_without_its_w2_factor_makes_comfyui_raise() -> None:
    """LoKr modules that lost their w2 factor: ComfyUI loads ``lokr_w1`` (``lokr.py:211-273``) and then computes
    ``lokr_w2_a @ lokr_w2_b`` of two missing tensors before its ``try`` block (``lokr.py:297-339``), which raises:
    ``no`` everywhere. The shapes show no size class, so no size claim is contradicted."""
    tensors, metadata = load_key_list("lokr-musubi-wan21-t2v-1.3b.keys")
    partial = {k: v for k, v in tensors.items() if not k.endswith(("lokr_w2_a", "lokr_w2_b"))}
    facts = analyse_table(partial, metadata)
    assert set(verdicts(facts).values()) == {"no"}
    assert facts.fits["wan2.1-t2v-1.3b"].reason == (
        f"0 of 300 patches applied by {COMFYUI_LABEL} on Wan 2.1 T2V 1.3B; 300 patches make ComfyUI raise while "
        "loading: blocks.*.cross_attn.k, blocks.*.cross_attn.o, blocks.*.cross_attn.q …"
    )
    assert contradictions(facts, Claims(size_class="14B")) == []


def test_a_bias_shared_by_size_classes_applies_on_each() -> None:
    """``head.head`` has 64 outputs on 1.3B and 14B alike: ComfyUI reads ``.diff_b`` as the bias delta
    (``comfy/lora.py:78-82``) and merges it wherever the shapes are equal (``comfy/lora.py:484-485``), so it fits
    all five; on 5B (192 outputs) it fails at merge. What the file was made for is the base guess's to say."""
    tensors, _ = load_key_list("kijai-extract-14b-t2v-type.keys")
    facts = analyse_table(
        {k: v for k, v in tensors.items() if k.startswith("diffusion_model.head.head.diff_b")}
    )
    assert verdicts(facts) == {
        "wan2.1-i2v-14b": "fits",
        "wan2.1-t2v-1.3b": "fits",
        "wan2.1-t2v-14b": "fits",
        "wan2.2-i2v-a14b": "fits",
        "wan2.2-t2v-a14b": "fits",
        "wan2.2-ti2v-5b": "no",
    }
    assert facts.fits["wan2.2-ti2v-5b"].reason == (
        f"0 of 1 patches applied by {COMFYUI_LABEL} on Wan 2.2 TI2V 5B; "
        "1 patch fails at merge (shape mismatch with Wan 2.2 TI2V 5B): head.head.bias"
    )
    assert facts.base_guess.confidence == "none"


def _raw_peft(name: str) -> str:
    """A PEFT ``PeftModel.state_dict()`` key: ``base_model.model.`` + module path + ``.lora_A.default.weight``."""
    return "base_model.model." + name.removeprefix("transformer.").replace(".weight", ".default.weight")


def _musubi_default(name: str) -> str:
    """musubi-tuner ``convert_lora.py --target default`` on a diffusers key (``convert_from_diffusers``): drop the
    first component, ``lora_unet_`` + the path with every ``.`` as ``_``, then ``.lora_down.``/``.lora_up.``."""
    body = "lora_unet_" + name.split(".", 1)[1].replace(".", "_")
    return body.replace("_lora_A_", ".lora_down.").replace("_lora_B_", ".lora_up.")


@pytest.mark.parametrize(
    ("rename", "key_format"),
    [(_raw_peft, "peft-other"), (_musubi_default, "kohya")],
    ids=["peft", "musubi-default"],
)
def test_diffusers_names_under_other_prefixes(rename: Callable[[str], str], key_format: str) -> None:
    """Diffusers module names after ``base_model.model.`` or ``lora_unet_`` map like after ``transformer.``. Native
    ComfyUI loads neither: its Wan key map holds ``lora_unet_`` + the model's own parameter paths only
    (``comfy/lora.py:187-198``), never ``attn1_to_q``."""
    tensors, _ = load_key_list("diffusers-wan21-t2v-14b.keys")
    facts = analyse_table({rename(k): v for k, v in tensors.items()})
    assert (facts.key_format, facts.unmatched_keys, facts.diffusers_named_keys) == (key_format, 0, 800)
    assert set(facts.modules) == ATTENTION_AND_FFN
    assert set(verdicts(facts).values()) == {"no"}
    (note,) = [n for n in facts.notes if "diffusers module names" in n]
    assert "WanVideoWrapper" not in note
