"""Claimed fit and "made for" (issue 19) on the real catalog: every LoRA of data/ against every model of data/.

The expected values are written out by hand from the issue's rules, not computed: a Wan 2.1 I2V 14B LoRA loses its
image branch on a model built without the CLIP branch (Wan 2.1 T2V 14B and every Wan 2.2 A14B expert, the
distilled one included), so it is *partial* there; a Wan 2.2 T2V/I2V name means A14B, so it fits no 1.3B or 5B
model; a LoRA of another size class fails at merge (*no*). "Made for" needs generation, task, size class and
expert together, or a recipe loading the LoRA on the model; a distilled checkpoint has no LoRAs made for it.
"""

from __future__ import annotations

import dataclasses
from functools import cache
from pathlib import Path

import pytest

from generator.catalog import models as m
from generator.catalog.fit import FitRules
from generator.catalog.validate import Catalog, load_catalog
from generator.lora.analyse import analyse_header
from generator.lora.comfyui_loader import COMFYUI_LABEL
from generator.lora.parse import header_from_bytes
from tests.safetensors_factory import fixture_header

ROOT = Path(__file__).resolve().parent.parent
MODELS = (
    "scail-2",
    "wan21-i2v-14b-480p",
    "wan21-t2v-1.3b",
    "wan21-t2v-14b",
    "wan22-i2v-a14b-high",
    "wan22-i2v-a14b-low",
    "wan22-t2v-a14b-4steps-250928-dyno-high",
    "wan22-t2v-a14b-high",
    "wan22-t2v-a14b-low",
    "wan22-ti2v-5b",
)
"""The catalog's models in order; the dyno checkpoint is the distilled one, SCAIL-2 a variant of unknown layout
(every fit on it is unknown: the first column below)."""
DYNO = "wan22-t2v-a14b-4steps-250928-dyno-high"
BASE_14B = tuple(model for model in MODELS if "14b" in model and model != DYNO)
"""The base models of the 14B size class, in order (neither SCAIL-2 nor the dyno checkpoint)."""

T2V_14B = "unknown fits no fits fits fits fits fits fits no"
"""A 14B LoRA without image-branch keys: every 14B model has its modules, the 1.3B and 5B ones fail at merge."""
I2V_21 = "unknown fits no partial partial partial partial partial partial no"
"""A Wan 2.1 I2V 14B LoRA: whole on Wan 2.1 I2V, image branch not loaded on every other 14B model."""
CLAIMED: dict[str, str] = {
    "fastwan-t2v-14b-480p-rank128": T2V_14B,
    "fusionx-i2v-14b": I2V_21,
    # "Phantom_Wan_14B": 14B, Wan 2.1 (entry), task R2V (no architecture of its own): T2V or I2V, so open wherever
    # the image branch would be lost.
    "fusionx-phantom-14b": "unknown fits no unknown unknown unknown unknown unknown unknown no",
    "fusionx-t2v-14b": T2V_14B,
    "lightx2v-i2v-14b-480p-cfg-step-distill-rank256": I2V_21,
    "lightx2v-i2v-14b-480p-cfg-step-distill-rank64-bf16": I2V_21,  # one entry, Comfy-Org's copy a mirror
    "lightx2v-t2v-14b-cfg-step-distill-adaptive-quantile-0.15": T2V_14B,
    "lightx2v-t2v-14b-cfg-step-distill-v2-lora-rank64-bf16": T2V_14B,
    "lightx2v-t2v-14b-cfg-step-distill-v2-rank256": T2V_14B,
    # No size in the name; the entry says Wan 2.1 T2V (1.3B or 14B); its recipe loads it on Wan 2.1 T2V 14B.
    "wan-alpha-2.1-rgba-lora": T2V_14B,
    # "wan2.1_SCAIL_2_DPO" with the entry's I2V (its model's task): Wan 2.1 I2V exists only as 14B.
    "wan2.1-scail-2-dpo-lora-bf16": I2V_21,
    "wan2.2-i2v-lightx2v-4steps-lora-v1-high-noise": T2V_14B,
    "wan2.2-i2v-lightx2v-4steps-lora-v1-low-noise": T2V_14B,
    "wan2.2-t2v-lightx2v-4steps-lora-v1.1-high-noise": T2V_14B,
    "wan2.2-t2v-lightx2v-4steps-lora-v1.1-low-noise": T2V_14B,
    "wan21-causvid-14b-t2v-lora-rank32": T2V_14B,
    "wan21-t2v-14b-rcm-average-rank-148": T2V_14B,
    "wan22-a14b-t2v-high-lightning-4steps-250928": T2V_14B,
    "wan22-a14b-t2v-low-lightning-4steps-250928": T2V_14B,
    "wan22-i2v-a14b-high-lightx2v-moe-distill": T2V_14B,
}
MADE_FOR: dict[str, tuple[str, ...]] = {
    "fastwan-t2v-14b-480p-rank128": ("wan21-t2v-14b",),
    "fusionx-i2v-14b": ("wan21-i2v-14b-480p",),
    "fusionx-phantom-14b": (),  # the name states no task, the entry's R2V is no base model's
    "fusionx-t2v-14b": ("wan21-t2v-14b",),
    "lightx2v-i2v-14b-480p-cfg-step-distill-rank256": ("wan21-i2v-14b-480p",),
    # named for Wan 2.1 I2V 480P: the SCAIL-2 templates that also load it make it no SCAIL-2 LoRA
    "lightx2v-i2v-14b-480p-cfg-step-distill-rank64-bf16": ("wan21-i2v-14b-480p",),
    "lightx2v-t2v-14b-cfg-step-distill-adaptive-quantile-0.15": ("wan21-t2v-14b",),
    "lightx2v-t2v-14b-cfg-step-distill-v2-lora-rank64-bf16": ("wan21-t2v-14b",),
    "lightx2v-t2v-14b-cfg-step-distill-v2-rank256": ("wan21-t2v-14b",),
    "wan-alpha-2.1-rgba-lora": ("wan21-t2v-14b",),  # by its recipe, never by generation + task (was: 1.3B)
    "wan2.1-scail-2-dpo-lora-bf16": ("scail-2",),  # no base model named; its recipes run the SCAIL-2 model
    "wan2.2-i2v-lightx2v-4steps-lora-v1-high-noise": ("wan22-i2v-a14b-high",),  # one entry per expert
    "wan2.2-i2v-lightx2v-4steps-lora-v1-low-noise": ("wan22-i2v-a14b-low",),
    "wan2.2-t2v-lightx2v-4steps-lora-v1.1-high-noise": ("wan22-t2v-a14b-high",),
    "wan2.2-t2v-lightx2v-4steps-lora-v1.1-low-noise": ("wan22-t2v-a14b-low",),
    "wan21-causvid-14b-t2v-lora-rank32": ("wan21-t2v-14b",),
    "wan21-t2v-14b-rcm-average-rank-148": ("wan21-t2v-14b",),
    "wan22-a14b-t2v-high-lightning-4steps-250928": ("wan22-t2v-a14b-high",),  # not the dyno checkpoint
    "wan22-a14b-t2v-low-lightning-4steps-250928": ("wan22-t2v-a14b-low",),
    "wan22-i2v-a14b-high-lightx2v-moe-distill": ("wan22-i2v-a14b-high",),  # the HIGH expert only
}
I2V_480P = [lora for lora in CLAIMED if lora.startswith("lightx2v-i2v-14b-480p")]


@cache
def _catalog() -> Catalog:
    return load_catalog(ROOT / "data", ROOT)


@cache
def _rules() -> FitRules:
    return FitRules(_catalog())


def test_the_tables_cover_the_catalog() -> None:
    """Every LoRA and model of data/ has its row: a new entry needs its expected values written here."""
    catalog = _catalog()
    assert tuple(model.id for model in catalog.models) == MODELS
    assert set(CLAIMED) == set(MADE_FOR) == {lora.id for lora in catalog.loras}
    assert len(I2V_480P) == 2


@pytest.mark.parametrize("lora_id", sorted(CLAIMED))
def test_claimed_fit_on_every_model(lora_id: str) -> None:
    """The claimed fit of one LoRA on each of the eight models, as the issue's rules give it."""
    lora = _catalog().lora(lora_id)
    found = [_rules().claimed_fit(lora, model) for model in _catalog().models]
    assert " ".join(f.answer for f in found) == CLAIMED[lora_id]
    assert {f.basis for f in found} == {"claimed"}
    assert [f.model for f in found] == list(MODELS)


@pytest.mark.parametrize("lora_id", sorted(MADE_FOR))
def test_made_for(lora_id: str) -> None:
    assert _rules().made_for(_catalog().lora(lora_id)) == MADE_FOR[lora_id]


def test_loras_made_for_each_model() -> None:
    """The models' side of the same table: the dyno checkpoint, the 1.3B and the 5B models have none."""
    catalog = _catalog()
    for model in catalog.models:
        expected = tuple(lora for lora in sorted(MADE_FOR) if model.id in MADE_FOR[lora])
        assert tuple(lora.id for lora in _rules().loras_made_for(model)) == expected
    assert {m for made in MADE_FOR.values() for m in made} == {"scail-2", *BASE_14B}


@pytest.mark.parametrize("lora_id", I2V_480P)
def test_i2v_480p_loras_lose_their_image_branch_on_t2v_type_models(lora_id: str) -> None:
    """Wan 2.2 I2V A14B is built without the CLIP branch, like the T2V models: partial, and the reason says why."""
    catalog, rules = _catalog(), _rules()
    lora = catalog.lora(lora_id)
    fit = rules.claimed_fit(lora, catalog.model("wan22-i2v-a14b-high"))
    assert (fit.answer, fit.reason) == (
        "partial",
        "a Wan 2.1 I2V 14B LoRA on Wan 2.2 I2V A14B, built without the CLIP branch: its image-branch keys are "
        "not loaded",
    )
    assert rules.claimed_fit(lora, catalog.model("wan21-t2v-1.3b")).reason == (
        "a 14B LoRA on a 1.3B model: its weights fail at merge"
    )
    assert rules.loads_on(lora, None) == BASE_14B


def test_expert_loras_fit_both_experts_and_are_made_for_theirs() -> None:
    """A high-noise LoRA fits the low-noise expert (same shapes) but was made for the high-noise one only."""
    catalog, rules = _catalog(), _rules()
    high = catalog.lora("wan22-a14b-t2v-high-lightning-4steps-250928")
    for model_id in ("wan22-t2v-a14b-high", "wan22-t2v-a14b-low", DYNO):
        assert rules.claimed_fit(high, catalog.model(model_id)).answer == "fits"
    assert [m.id for m in catalog.models if rules.is_made_for(high, m)] == ["wan22-t2v-a14b-high"]


def test_an_expert_only_lora_is_made_for_its_expert() -> None:
    """Wan 2.2 I2V A14B is two entries, as T2V is: the MoE-distill HIGH LoRA is made for the high-noise one only."""
    catalog, rules = _catalog(), _rules()
    moe = catalog.lora("wan22-i2v-a14b-high-lightx2v-moe-distill")
    assert [model.id for model in catalog.models if rules.is_made_for(moe, model)] == ["wan22-i2v-a14b-high"]
    assert rules.claimed_fit(moe, catalog.model("wan22-i2v-a14b-low")).answer == "fits"


def test_a_variant_of_unknown_layout_gets_no_fit() -> None:
    """SCAIL-2 names no architecture: every fit on it is unknown, saying why; it is no filter option."""
    catalog, rules = _catalog(), _rules()
    scail = catalog.model("scail-2")
    assert (scail.kind, scail.architecture) == ("variant", None)
    fit = rules.claimed_fit(catalog.lora("fusionx-t2v-14b"), scail)
    assert (fit.answer, fit.reason) == (
        "unknown",
        "the catalog knows no tensor layout for SCAIL-2, a model of its own",
    )
    assert "scail-2" not in rules.loads_on(catalog.lora("wan2.1-scail-2-dpo-lora-bf16"), None)


def test_the_distilled_checkpoint_has_no_loras_made_for_it() -> None:
    """The dyno checkpoint is kind distilled: LoRAs load on it, none is made for it, and loads_on leaves it out."""
    catalog, rules = _catalog(), _rules()
    dyno = catalog.model(DYNO)
    assert dyno.kind == "distilled"
    assert rules.loras_made_for(dyno) == ()
    lightning = catalog.lora("wan22-a14b-t2v-high-lightning-4steps-250928")
    assert DYNO not in rules.loads_on(lightning, None)


def test_wan_alpha_without_its_recipe_is_made_for_nothing() -> None:
    """Generation and task alone (Wan 2.1 T2V: 1.3B or 14B) name no model; the claimed fit stays open."""
    catalog = dataclasses.replace(_catalog(), recipes=())
    rules = FitRules(catalog)
    alpha = catalog.lora("wan-alpha-2.1-rgba-lora")
    assert rules.made_for(alpha) == ()
    for model_id in ("wan21-t2v-1.3b", "wan21-t2v-14b"):
        fit = rules.claimed_fit(alpha, catalog.model(model_id))
        assert (fit.answer, fit.reason) == ("unknown", "the file name states no model size (1.3B or 14B)")
    assert rules.claimed_fit(alpha, catalog.model("wan22-ti2v-5b")).answer == "no"


def test_phantom_reason_names_what_the_name_leaves_open() -> None:
    catalog, rules = _catalog(), _rules()
    fit = rules.claimed_fit(catalog.lora("fusionx-phantom-14b"), catalog.model("wan21-t2v-14b"))
    assert fit.reason == (
        "the file name does not say whether it is a Wan 2.1 I2V 14B LoRA, whose image-branch keys "
        "Wan 2.1 T2V 14B would not load"
    )


def test_a_read_header_gives_the_verified_fit_with_its_counts() -> None:
    """Once the header is read, the stored ComfyUI verdict and its counts replace the claim."""
    catalog, rules = _catalog(), _rules()
    lora = catalog.lora("lightx2v-i2v-14b-480p-cfg-step-distill-rank256")
    facts = analyse_header(*header_from_bytes(fixture_header("kijai-extract-wan21-i2v-14b.keys")), "x")
    fits = {f.model: f for f in rules.fits(lora, facts)}
    assert {f.basis for f in fits.values()} == {"verified"}
    partial = fits["wan22-i2v-a14b-low"]
    assert (partial.answer, partial.comfyui) == ("partial", COMFYUI_LABEL)
    assert partial.counts is not None
    assert (partial.counts.applied, partial.counts.keys_not_loaded) == (1053, {"image-branch": 290})
    assert (partial.model, partial.answer, partial.basis) == ("wan22-i2v-a14b-low", "partial", "verified")
    assert fits["wan21-i2v-14b-480p"].answer == "fits"
    assert rules.loads_on(lora, facts) == rules.loads_on(lora, None)


def _named_lora(name: str, generation: str, task: str) -> m.Lora:
    """A LoRA entry of the catalog's shape with another file name, generation and task (an id no recipe cites)."""
    base = _catalog().lora("wan-alpha-2.1-rgba-lora")
    update = {"id": f"probe-{name.lower()}", "generation": generation, "task": task, "expert": None}
    return base.model_copy(update={**update, "file": base.file.model_copy(update={"path": name})})


NONE_BUT_5B = "unknown no no no no no no no no fits"
"""A 5B LoRA: only Wan 2.2 TI2V 5B has its shapes."""
NONE_BUT_1_3B = "unknown no fits no no no no no no no"


@pytest.mark.parametrize(
    ("name", "generation", "task", "expected"),
    [
        # generation + task + size name no architecture (Wan 2.2 has I2V only as A14B): the stated size decides.
        ("wan2.2_i2v_5b_lora.safetensors", "2.2", "I2V", NONE_BUT_5B),
        ("wan2.1_t2v_5B_style.safetensors", "2.1", "T2V", NONE_BUT_5B),
        ("wan2.2_t2v_1.3b_style.safetensors", "2.2", "T2V", NONE_BUT_1_3B),
        ("wan2.1_i2v_1.3B_style.safetensors", "2.1", "I2V", NONE_BUT_1_3B),
        # a task glued to its size ("I2V14B") is both words; the entry's R2V has no architecture of its own.
        ("Wan2.1-I2V14B-480P_x.safetensors", "2.1", "R2V", I2V_21),
        ("Wan2.1_T2V14B_style.safetensors", "2.1", "R2V", T2V_14B),
        ("wan2.1_t2v1.3b_style.safetensors", "2.1", "R2V", NONE_BUT_1_3B),
        ("Wan2.2_TI2V5B_style.safetensors", "2.2", "R2V", NONE_BUT_5B),
        # unchanged: the rules where the name places the LoRA.
        ("wan2.2_i2v_style.safetensors", "2.2", "I2V", T2V_14B),
        ("wan2.2_ti2v_style.safetensors", "2.2", "TI2V", NONE_BUT_5B),
        ("wan2.1_i2v_style.safetensors", "2.1", "I2V", I2V_21),
    ],
)
def test_claimed_fit_of_names_the_rules_cannot_place(
    name: str, generation: str, task: str, expected: str
) -> None:
    """Issue 19's "``5B`` names mean the 5B size" holds when the rest of the name places the LoRA nowhere."""
    lora = _named_lora(name, generation, task)
    assert " ".join(_rules().claimed_fit(lora, model).answer for model in _catalog().models) == expected


def test_a_fit_by_size_alone_says_so() -> None:
    """The reason names the combination no architecture has, and that the size decided."""
    catalog = _catalog()
    lora = _named_lora("wan2.2_i2v_5b_lora.safetensors", "2.2", "I2V")
    assert _rules().claimed_fit(lora, catalog.model("wan22-ti2v-5b")).reason == (
        "a 5B LoRA on a 5B model: the sizes match (by its size alone: no Wan architecture is Wan 2.2 I2V 5B)"
    )
    assert _rules().claimed_fit(lora, catalog.model("wan22-i2v-a14b-high")).reason == (
        "a 5B LoRA on a 14B model: its weights fail at merge (by its size alone: no Wan architecture is "
        "Wan 2.2 I2V 5B)"
    )
    assert _rules().made_for(lora) == ()
