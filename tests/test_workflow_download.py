"""Download workflow (issue 23): every card's workflow, checked against its template and its card.

The checks do not reuse the builder's reader: a small evaluator here follows the workflow the way ComfyUI
runs it (subgraph inputs from the instance's link or widget value, outputs through the definition's
``linkIds``; a bypassed node passes its input of the output's type through; a switch takes the side its
boolean gives) and reads what each active sampler really gets. The diff against the template is computed
here too, and each difference must be one the issue lists. Widget positions are those of ComfyUI's node
definitions (nodes.py: KSampler, KSamplerAdvanced, LoraLoader…, UNETLoader; comfy_extras: ModelSamplingSD3,
BasicScheduler, CFGGuider, SamplerCustom, the primitives and ComfySwitchNode).
"""

from __future__ import annotations

import dataclasses
import html
import importlib.resources
import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from generator.catalog.recipes import Recipe
from generator.catalog.snapshot import read_snapshot
from generator.catalog.validate import Catalog, load_catalog
from generator.cli import main
from generator.site.render import render_pages

ROOT = Path(__file__).resolve().parents[1]
Json = dict[str, Any]
WIDGETS = {
    "KSampler": {"steps": 2, "cfg": 3},
    "KSamplerAdvanced": {"steps": 3, "cfg": 4},
    "SamplerCustom": {"cfg": 3},
    "CFGGuider": {"cfg": 0},
    "BasicScheduler": {"steps": 1},
    "LoraLoaderModelOnly": {"lora_name": 0, "strength_model": 1},
    "LoraLoader": {"lora_name": 0, "strength_model": 1, "strength_clip": 2},
    "UNETLoader": {"unet_name": 0},
    "ModelSamplingSD3": {"shift": 0},
    "ComfySwitchNode": {"switch": 0},
    **{
        kind: {"value": 0} for kind in ("PrimitiveBoolean", "PrimitiveInt", "PrimitiveFloat", "PrimitiveNode")
    },
}
SAMPLERS = {"KSampler", "KSamplerAdvanced", "SamplerCustom", "SamplerCustomAdvanced"}
LORAS = {"LoraLoaderModelOnly", "LoraLoader"}
LIGHTNING_LOW = "Wan22_A14B_T2V_LOW_Lightning_4steps_lora_250928_rank64_fp16.safetensors"
CHANGEABLE = {(kind, "lora_name") for kind in LORAS} | {(kind, "strength_model") for kind in LORAS}
CHANGEABLE |= {("UNETLoader", "unet_name"), ("ModelSamplingSD3", "shift"), ("PrimitiveBoolean", "value")}
CHANGEABLE |= {(kind, name) for kind in ("KSampler", "KSamplerAdvanced") for name in ("steps", "cfg")}


@dataclass(frozen=True)
class Scope:
    """One use of a graph: the top level, or a subgraph definition inside an instance node."""

    graph: Json
    links: dict[int, tuple[Any, ...]]
    instance: Json | None = None
    parent: Scope | None = None


def _links(graph: Json) -> dict[int, tuple[Any, ...]]:
    found = {}
    for link in graph.get("links") or []:
        if isinstance(link, dict):
            keys = ("id", "origin_id", "origin_slot", "target_id", "target_slot", "type")
            link = [link[key] for key in keys]
        found[link[0]] = tuple(link[1:6])
    return found


class Evaluator:
    """What ComfyUI runs: the active samplers and, for each, its model, LoRAs and numbers."""

    def __init__(self, workflow: Json) -> None:
        self.top = Scope(workflow, _links(workflow))
        self.definitions = {s["id"]: s for s in (workflow.get("definitions") or {}).get("subgraphs", [])}

    def scope(self, instance: Json, parent: Scope) -> Scope:
        graph = self.definitions[instance["type"]]
        return Scope(graph, _links(graph), instance, parent)

    def source(self, scope: Scope, node: Json, name: str) -> tuple[Any, ...] | None:
        """('out', scope, node, slot) or ('value', v) for an input; None when neither is given."""
        item = next((i for i in node.get("inputs") or [] if i["name"] == name), None)
        if item is not None and item.get("link") is not None:
            found = self._link(scope, item["link"])
            if found is not None:
                return found
        index = WIDGETS.get(node["type"], {}).get(name)
        values = node.get("widgets_values")
        if index is not None and isinstance(values, list) and index < len(values):
            return ("value", values[index])
        return None

    def _link(self, scope: Scope, link_id: int) -> tuple[Any, ...] | None:
        origin, slot = scope.links[link_id][:2]
        if origin == -10:
            return self._outer(scope, slot)
        node = next(n for n in scope.graph["nodes"] if n["id"] == origin)
        if node["type"] in self.definitions:
            inner = self.scope(node, scope)
            return self._link(inner, inner.graph["outputs"][slot]["linkIds"][0])
        return ("out", scope, node, slot)

    def _outer(self, scope: Scope, slot: int) -> tuple[Any, ...] | None:
        assert scope.instance is not None
        assert scope.parent is not None
        name = scope.graph["inputs"][slot]["name"]
        inputs = scope.instance.get("inputs") or []
        item = next((i for i in inputs if i["name"] == name), None)
        if item is not None and item.get("link") is not None:
            return self._link(scope.parent, item["link"])
        sockets = {i["name"] for i in inputs if "widget" not in i}
        widgets = [i["name"] for i in scope.graph["inputs"] if i["name"] not in sockets]
        values = scope.instance.get("widgets_values") or []
        if name in widgets and len(values) == len(widgets):
            return ("value", values[widgets.index(name)])
        return None  # the inner node's own widget value counts

    def value(self, scope: Scope, node: Json, name: str) -> Any:
        found = self.source(scope, node, name)
        if found is None or found[0] == "value":
            return found[1] if found else None
        _, where, origin, _ = found
        if origin["type"] in WIDGETS and "value" in WIDGETS[origin["type"]]:
            return self.value(where, origin, "value")
        if origin["type"] == "ComfySwitchNode":
            return self.value(where, origin, self.side(where, origin))
        raise AssertionError(f"{name} of node {node['id']} is computed by {origin['type']}")

    def side(self, scope: Scope, switch: Json) -> str:
        return "on_true" if self.value(scope, switch, "switch") else "on_false"

    def samplers(self, scope: Scope | None = None) -> list[tuple[Scope, Json]]:
        """Every sampler that runs: mode 0, in instances that run."""
        scope = scope or self.top
        found = []
        for node in scope.graph["nodes"]:
            if node.get("mode", 0) != 0:
                continue
            if node["type"] in self.definitions:
                found += self.samplers(self.scope(node, scope))
            elif node["type"] in SAMPLERS:
                found.append((scope, node))
        return found

    def stage(self, scope: Scope, sampler: Json) -> dict[str, Any]:
        """The model, the LoRAs (nearest the loader first) and the numbers one sampler runs with."""
        holder, settings = (scope, sampler), {}
        if sampler["type"] == "SamplerCustomAdvanced":
            _, *guider, _ = self.source(scope, sampler, "guider") or ("", None, None, 0)
            holder = (guider[0], guider[1])
        if sampler["type"] in ("SamplerCustom", "SamplerCustomAdvanced"):
            _, *chosen, _ = self.source(scope, sampler, "sigmas") or ("", None, None, 0)
            settings["steps"] = self.value(chosen[0], chosen[1], "steps")
            settings["cfg"] = self.value(*holder, "cfg")
        else:
            settings = {name: self.value(scope, sampler, name) for name in ("steps", "cfg")}
        loras: list[tuple[Any, Any]] = []
        shift, model = None, None
        found = self.source(*holder, "model")
        while found is not None and found[0] == "out":
            _, where, node, slot = found
            assert node.get("mode", 0) != 2, f"node {node['id']} on a model chain is muted"
            if node.get("mode", 0) == 4:  # bypassed: the input of the output's type goes through
                kind = node["outputs"][slot]["type"]
                found = self.source(where, node, next(i["name"] for i in node["inputs"] if i["type"] == kind))
                continue
            if node["type"] == "ComfySwitchNode":
                found = self.source(where, node, self.side(where, node))
                continue
            if node["type"] in LORAS:
                loras.append(
                    (self.value(where, node, "lora_name"), self.value(where, node, "strength_model"))
                )
            if node["type"] == "ModelSamplingSD3" and shift is None:
                shift = self.value(where, node, "shift")
            if node["type"] == "UNETLoader":
                model = self.value(where, node, "unet_name")
                break
            found = self.source(where, node, "model")
        return {"model": model, "loras": tuple(reversed(loras)), "shift": shift, **settings}


def _template(name: str) -> Json:
    file = importlib.resources.files("comfyui_workflow_templates_json") / "templates" / f"{name}.json"
    value: Json = json.loads(file.read_text(encoding="utf-8"))
    return value


def _r(value: Any) -> Any:
    return round(float(value), 2) if isinstance(value, int | float) and not isinstance(value, bool) else value


def _card_stage(stage: Any) -> dict[str, Any]:
    return {"model": stage.model_file, "loras": tuple((u.file, _r(u.strength)) for u in stage.loras)}


def _ran(stage: dict[str, Any]) -> dict[str, Any]:
    return {"model": stage["model"], "loras": tuple((f, _r(s)) for f, s in stage["loras"])}


def _made(pages: dict[str, str], recipe: Recipe) -> Json:
    found: Json = json.loads(pages[f"workflows/recipes/{recipe.id}.json"])
    return found


def test_every_card_that_loads_a_lora_offers_its_workflow(catalog: Catalog, pages: dict[str, str]) -> None:
    """Each recipe card links its file, says how to use it, the template version and ComfyUI's release."""
    setups = pages["setups.md"]
    assert len(catalog.recipes) == 23  # 20 that load a LoRA, 3 baselines (issue 21)
    for recipe in catalog.recipes:
        card = setups.split(f"{{ #{recipe.id} }}", 1)[1].split("\n### ", 1)[0]
        href = f"workflows/recipes/{recipe.id}.json"
        link = f'[Download workflow (.json)]({href}){{ .la-workflow download="{recipe.id}.json" }}'
        assert link in card, recipe.id
        assert href in pages
        assert (
            "put the files of the download block in place, then drag the file onto ComfyUI's\ncanvas" in card
        )
        assert "comfyui-workflow-templates-json 0.1.123" in card
        assert "made for ComfyUI v0.29.0." in card
    links = re.findall(r"\]\((workflows/[^)]+)\)", setups + pages["combinations.md"])
    assert all(link in pages for link in links)
    assert sorted(path for path in pages if path.startswith("workflows/")) == sorted(set(links))


def test_each_workflow_runs_the_card_path(catalog: Catalog, pages: dict[str, str]) -> None:
    """What ComfyUI would run: every active sampler runs a stage of the card, with its files, strengths,
    steps, CFG and shift, and every stage of the card runs; the LoRA files are those of the download block."""
    for recipe in catalog.recipes:
        evaluator = Evaluator(_made(pages, recipe))
        ran = [evaluator.stage(*found) for found in evaluator.samplers()]
        cards = [_card_stage(stage) for stage in recipe.lora_path.stages]
        assert all(_ran(stage) in cards for stage in ran), (recipe.id, ran)
        assert all(card in [_ran(stage) for stage in ran] for card in cards), recipe.id
        block = {Path(f.path).name for f in recipe.files}
        for stage, card in zip(
            ran, (recipe.lora_path.stages[cards.index(_ran(s))] for s in ran), strict=True
        ):
            assert {file for file, _ in stage["loras"]} <= block, recipe.id
            assert stage["model"] in block, recipe.id
            for name in ("steps", "cfg", "shift"):
                if getattr(card, name) is not None:
                    assert _r(stage[name]) == _r(getattr(card, name)), (recipe.id, name)


def _diff(old: Any, new: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], Any, Any]]:
    if isinstance(old, dict) and isinstance(new, dict) and list(old) == list(new)[: len(old)]:
        added = [((*path, key), None, new[key]) for key in list(new)[len(old) :]]
        return [d for key in old for d in _diff(old[key], new[key], (*path, key))] + added
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [d for i, pair in enumerate(zip(old, new, strict=True)) for d in _diff(*pair, (*path, i))]
    return [] if (type(old), old) == (type(new), new) else [(path, old, new)]


def _node(workflow: Json, path: tuple[Any, ...]) -> tuple[Json, Json, tuple[Any, ...]]:
    """(the graph, the node, the rest of the path) a difference is in; fails outside a node."""
    graph = workflow
    if path[:2] == ("definitions", "subgraphs"):
        graph, path = workflow["definitions"]["subgraphs"][path[2]], path[3:]
    assert path[0] == "nodes", f"a difference outside any node: {path}"
    return graph, graph["nodes"][path[1]], path[2:]


def _widget(template: Json, node: Json, index: int) -> tuple[Json, str]:
    """The node and input a widget value sets: an instance's promoted value reaches its inner node."""
    definitions = {s["id"]: s for s in (template.get("definitions") or {}).get("subgraphs", [])}
    if node["type"] in definitions:
        graph = definitions[node["type"]]
        sockets = {i["name"] for i in node.get("inputs") or [] if "widget" not in i}
        name = [i["name"] for i in graph["inputs"] if i["name"] not in sockets][index]
        link = next(i for i in graph["inputs"] if i["name"] == name)["linkIds"][0]
        target, slot = _links(graph)[link][2:4]
        inner = next(n for n in graph["nodes"] if n["id"] == target)
        return inner, inner["inputs"][slot]["name"]
    names = {i: n for n, i in WIDGETS.get(node["type"], {}).items()}
    return node, names.get(index, f"widget {index}")


def _centre_inside(group: Json, node: Json) -> bool:
    """ComfyUI's rule: the centre of the node's box, title bar (30 px) included, is inside the group."""
    (x, y), (w, h) = node["pos"], node["size"]
    gx, gy, gw, gh = group["bounding"]
    return bool(gx <= x + w / 2 <= gx + gw and gy <= y - 30 + (h + 30) / 2 <= gy + gh)


def _groups(template: Json, recipe: Recipe) -> tuple[Json, Json, set[str]]:
    """The card's group, the template's active group (the largest holding its active samplers), and the
    node types the template bypasses throughout the active group."""
    group = recipe.lora_path.group
    titled = [g for g in template["groups"] if g["title"].strip() == group]
    card = max(titled, key=lambda g: g["bounding"][2] * g["bounding"][3])
    active = [n for n in template["nodes"] if n["type"] in SAMPLERS and n.get("mode", 0) == 0]
    holding = [g for g in template["groups"] if all(_centre_inside(g, n) for n in active)]
    other = max(holding, key=lambda g: g["bounding"][2] * g["bounding"][3])
    inside = [n for n in template["nodes"] if _centre_inside(other, n)]
    off = {n["type"] for n in inside} - {n["type"] for n in inside if n.get("mode", 0) != 4}
    return card, other, off


def _allowed(template: Json, recipe: Recipe, path: tuple[Any, ...], old: Any, new: Any) -> str:
    """Which listed change a difference is (an assertion fails when it is none of them)."""
    _, node, rest = _node(template, path)
    cards = recipe.lora_path.stages
    if rest == ("mode",):
        old = 0 if old is None else old
        if node["type"] in LORAS and new == 0:
            return "LoRA loader on"
        assert recipe.lora_path.group, (recipe.id, path)
        card, other, _ = _groups(template, recipe)
        if (old, new) == (4, 0) and _centre_inside(card, node):
            return "group on"
        assert (old, new) == (0, 4), (recipe.id, path, old, new)
        assert _centre_inside(other, node), (recipe.id, path)
        return "group off"
    assert rest[:1] == ("widgets_values",), (recipe.id, path)
    inner, name = _widget(template, node, rest[1])
    assert (inner["type"], name) in CHANGEABLE, (recipe.id, path, inner["type"], name)
    if inner["type"] == "PrimitiveBoolean":
        assert "lora" in inner.get("title", "").lower(), (recipe.id, path)
        assert new is True, (recipe.id, path)
        return "switch"
    given: dict[str, set[Any]] = {
        "lora_name": {Path(f.path).name for f in recipe.files if f.folder == "loras"},
        "strength_model": {u.strength for s in cards for u in s.loras},
        "unet_name": {Path(f.path).name for f in recipe.files if f.folder == "diffusion_models"},
    }
    assert new in given.get(name, {getattr(s, name) for s in cards}), (recipe.id, path, new)
    return name


def test_against_its_template_only_the_listed_values_differ(catalog: Catalog, pages: dict[str, str]) -> None:
    """The diff computed here: each difference is a switch, a group's or LoRA loader's mode, a LoRA file
    or strength, a model file or a sampler number of the card; in a bypassed-group card, every node of the
    card's group is on (but types the template keeps off throughout the other) and every other one off."""
    counts = {}
    for recipe in catalog.recipes:
        template, made = _template(recipe.source.template), _made(pages, recipe)
        diff = _diff(template, made)
        kinds = [_allowed(template, recipe, *d) for d in diff]
        counts[recipe.id] = len(kinds)
        if recipe.lora_path.group:
            card, other, off = _groups(template, recipe)
            for node in made["nodes"]:
                if _centre_inside(card, node):
                    assert node.get("mode", 0) == (4 if node["type"] in off else 0), (recipe.id, node["id"])
                elif _centre_inside(other, node):
                    assert node["mode"] == 4, (recipe.id, node["id"])
        switched = any(n["type"] == "ComfySwitchNode" for n in _all_nodes(template))
        assert kinds.count("switch") == (1 if switched and recipe.opens_with == "default_path" else 0)
    assert counts == {
        **dict.fromkeys((r.id for r in catalog.recipes), 0),
        **{"wan-vace-flf2v": 1, "wan2-2-14b-i2v": 1, "wan2-2-14b-t2v": 1, "wanmove-480p": 1},
        **{"wan2-2-14b-flf2v": 36, "wan2-2-14b-fun-camera": 34, "wan2-2-14b-fun-control": 36},
        "wan2.1-alpha-t2v-14b": 3,
    }


def _all_nodes(workflow: Json) -> list[Json]:
    subgraphs = (workflow.get("definitions") or {}).get("subgraphs", [])
    return [*workflow["nodes"], *(n for s in subgraphs for n in s["nodes"])]


def test_every_link_joins_existing_slots_of_its_type(pages: dict[str, str]) -> None:
    """Both ends of every link exist (nodes, or a subgraph's inputs and outputs), carry a type the link's
    shares and name the link back."""
    made = [json.loads(text) for path, text in pages.items() if path.startswith("workflows/")]
    assert len(made) >= 21
    for workflow in made:
        graphs = [
            (workflow, None),
            *((s, s) for s in (workflow.get("definitions") or {}).get("subgraphs", [])),
        ]
        for graph, definition in graphs:
            nodes = {n["id"]: n for n in graph["nodes"]}
            for link, (origin, out, target, into, kind) in _links(graph).items():
                if origin == -10:
                    assert definition is not None
                    start = definition["inputs"][out]
                    assert link in start["linkIds"]
                else:
                    start = nodes[origin]["outputs"][out]
                    assert link in (start.get("links") or [])
                if target == -20:
                    assert definition is not None
                    end = definition["outputs"][into]
                    assert link in end["linkIds"]
                else:
                    end = nodes[target]["inputs"][into]
                    assert end["link"] == link
                for slot in (start, end):  # "*" takes any type; "FLOAT,INT" is either (LiteGraph's rule)
                    assert "*" in (kind, slot["type"]) or set(kind.split(",")) & set(slot["type"].split(","))


def test_the_wan22_i2v_workflow_uses_only_the_template_nodes(catalog: Catalog, pages: dict[str, str]) -> None:
    """Wan 2.2 I2V A14B: node types are the template's (the ComfyUI v0.29.0 node set it was made for), and
    the one change is the switch's promoted value on the subgraph instance."""
    recipe = next(r for r in catalog.recipes if r.id == "wan2-2-14b-i2v")
    template, made = _template(recipe.source.template), _made(pages, recipe)
    assert {n["type"] for n in _all_nodes(made)} <= {n["type"] for n in _all_nodes(template)}
    assert _diff(template, made) == [(("nodes", 4, "widgets_values", 11), False, True)]


def test_a_second_build_writes_the_same_bytes(tmp_path: Path) -> None:
    """`generator build` twice: the workflow files are byte for byte the same and not written again."""
    shutil.copytree(ROOT / "data", tmp_path / "data")
    docs = tmp_path / "docs"
    assert main(["--root", str(tmp_path), "build", "--docs", str(docs)]) == 0
    first = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(docs.glob("workflows/*/*.json"))}
    assert main(["--root", str(tmp_path), "build", "--docs", str(docs)]) == 0
    second = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(docs.glob("workflows/*/*.json"))}
    assert len(first) == 25  # 23 recipes (3 baselines), 2 combinations (the dyno model now names its file)
    assert first == second
    assert "workflows/recipes/wan2-2-14b-i2v.json" in (docs / ".generated").read_text().split()


def test_the_template_alone_runs_the_card_path_only_where_nothing_changed(
    catalog: Catalog, pages: dict[str, str]
) -> None:
    """The evaluator tells the paths apart: a template that needed changes runs another path as shipped."""
    for recipe in catalog.recipes:
        template = _template(recipe.source.template)
        evaluator = Evaluator(template)
        ran = sorted(map(repr, (_ran(evaluator.stage(*found)) for found in evaluator.samplers())))
        card = sorted({repr(_card_stage(stage)) for stage in recipe.lora_path.stages})
        unchanged = not _diff(template, _made(pages, recipe))
        assert (sorted(set(ran)) == card) == unchanged or recipe.id == "wan2.1-alpha-t2v-14b", recipe.id
    alpha = next(r for r in catalog.recipes if r.id == "wan2.1-alpha-t2v-14b")
    shipped = Evaluator(_template(alpha.source.template))
    (stage,) = [shipped.stage(*found) for found in shipped.samplers()]
    assert (stage["steps"], stage["cfg"], len(stage["loras"])) == (20, 6, 1)  # the 4-step LoRA off


def _project(tmp_path: Path, dyno_file: str | None) -> Path:
    """A copy of data/ whose dyno model has exactly the file download given (or only its folders)."""
    shutil.copytree(ROOT / "data", tmp_path / "data")
    path = tmp_path / "data" / "models" / "wan22-t2v-a14b-4steps-250928-dyno-high.yaml"
    entry = yaml.safe_load(path.read_text(encoding="utf-8"))
    entry["downloads"] = [d for d in entry["downloads"] if d["link"].get("kind") != "file"]
    if dyno_file:
        link = {"kind": "file", "repo": "Kijai/WanVideo_comfy_fp8_scaled", "path": f"T2V/{dyno_file}"}
        entry["downloads"].insert(0, {"precision": "fp8_e4m3", "link": link})
    path.write_text(yaml.safe_dump(entry, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return tmp_path


def _combination(pages: dict[str, str], combo_id: str) -> tuple[str, set[str]]:
    """A combination's section of the combinations page and the file names its download block saves."""
    section = pages["combinations.md"].split(f"{{ #{combo_id} }}", 1)[1].split("\n## ", 1)[0]
    return html.unescape(section), set(re.findall(r"-o ComfyUI/models/\w+/(\S+)", section))


def test_the_dyno_combination_gets_its_workflow_once_its_model_file_is_data(tmp_path: Path) -> None:
    """Without a file, the card says why; with the dyno file added to the data, the high expert loads it
    with no LoRA, the low expert keeps the template's model and takes the 250928 Lightning LoRA at the
    template's strength, each labelled; every file loaded is in the combination's or the template's block."""
    name = "Wan2_2-T2V-A14B-HIGH_4steps-250928-dyno-lightx2v_fp8_e4m3fn_scaled_KJ.safetensors"
    for added in (None, name):
        root = _project(tmp_path / str(bool(added)), added)
        catalog = load_catalog(root / "data", root)
        pages = render_pages(catalog, read_snapshot(root))
        section, block = _combination(pages, "dyno-high-lightning-low")
        file = "workflows/combinations/dyno-high-lightning-low.json"
        if added is None:
            assert file not in pages
            assert "No workflow to download: the high-noise model, " in section
            assert "is named without a file (its downloads are folders)." in section
            continue
        assert f"[Download workflow (.json)]({file})" in section
        assert "built from the official template <code>video_wan2_2_14B_t2v</code>" in section
        template, made = _template("video_wan2_2_14B_t2v"), json.loads(pages[file])
        evaluator = Evaluator(made)
        stages = [evaluator.stage(*found) for found in evaluator.samplers()]
        low_model, lightning = "wan2.2_t2v_low_noise_14B_fp8_scaled.safetensors", LIGHTNING_LOW
        assert [(s["model"], _ran(s)["loras"]) for s in stages] == [
            (name, ()),
            (low_model, ((lightning, 1.0),)),
        ]
        assert {(s["steps"], _r(s["cfg"])) for s in stages} == {(4, 1.0)}  # the template's LoRA path
        t2v = next(r for r in catalog.recipes if r.id == "wan2-2-14b-t2v")
        assert {name, lightning} <= block
        assert low_model in {Path(f.path).name for f in t2v.files}
        assert len(_diff(template, made)) == 4  # switch, high LoRA bypassed, high model file, low LoRA file
        assert (
            f"the high-noise expert loads {name} (Wan2.2-T2V-A14B-4steps-250928-dyno-high-lightx2v)"
            in section
        )
        assert (
            "the high-noise expert's LoRA loader is bypassed (no LoRA there on the original page)" in section
        )
        assert "the low-noise LoRA's strength, not given there, is the template's 1.0" in section
        assert (
            f"the low-noise model is the template's {low_model} (the original page says only “some wan 2.2”)"
            in section
        )


def test_combinations_with_every_part_named_and_without(pages: dict[str, str]) -> None:
    """The adaptive lightx2v pair rides the T2V template's loaders at the template's strength, said so;
    the pair whose low LoRA is '?' gets no workflow, and its card says why."""
    section, block = _combination(pages, "lightx2v-adaptive-both-experts")
    made = json.loads(pages["workflows/combinations/lightx2v-adaptive-both-experts.json"])
    evaluator = Evaluator(made)
    adaptive = "lightx2v_14B_T2V_cfg_step_distill_lora_adaptive_rank_quantile_0.15_bf16.safetensors"
    for found in evaluator.samplers():
        assert [(f, _r(s)) for f, s in evaluator.stage(*found)["loras"]] == [(adaptive, 1.0)]
    assert adaptive in block
    assert len(_diff(_template("video_wan2_2_14B_t2v"), made)) == 3  # the switch, two LoRA files
    assert section.count("strength, not given there, is the template's 1.0") == 2
    section, _ = _combination(pages, "lightx2v-v2-rank256-strong-high")
    assert "workflows/combinations/lightx2v-v2-rank256-strong-high.json" not in pages
    assert (
        "No workflow to download: the low-noise expert's LoRA is unknown ('?' on the original page)."
        in section
    )


def test_a_card_whose_workflow_cannot_be_built_says_why(catalog: Catalog) -> None:
    """A recipe read from another version of the package, or loading a LoRA its download block lacks,
    gets no workflow; its card names the cause (never a workflow that differs from the card)."""
    i2v, t2v = (
        next(r for r in catalog.recipes if r.id == name) for name in ("wan2-2-14b-i2v", "wan2-2-14b-t2v")
    )
    older = i2v.model_copy(update={"source": i2v.source.model_copy(update={"version": "0.1.99"})})
    without = t2v.model_copy(update={"files": tuple(f for f in t2v.files if f.folder != "loras")})
    changed = dataclasses.replace(catalog, recipes=(older, without))
    pages = render_pages(changed, read_snapshot(ROOT))
    assert not [path for path in pages if path.startswith("workflows/recipes/")]
    setups = html.unescape(pages["setups.md"])
    assert (
        "No workflow to download: the recipe was read from comfyui-workflow-templates-json 0.1.99, "
        "the build has 0.1.123." in setups
    )
    lora = "wan2.2_t2v_lightx2v_4steps_lora_v1.1_high_noise.safetensors"
    assert f"No workflow to download: the LoRA {lora} is not in the card's download block." in setups
