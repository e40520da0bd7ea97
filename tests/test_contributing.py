"""CONTRIBUTING.md stays true: its examples validate and its field guide names every LoRA field."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from generator.catalog.models import Claimed, Lora, LoraFile

ROOT = Path(__file__).resolve().parent.parent
GUIDE = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
EXAMPLES = re.findall(r"```yaml\n(.*?)```", GUIDE, re.DOTALL)
FOLDER_OF_SCHEMA = {"lora": "loras", "combination": "combinations"}


def test_has_lora_and_combination_examples() -> None:
    """One annotated example per kind a web-editor contributor adds."""
    schemas = [re.search(r"schemas/(\w+)\.schema\.json", example) for example in EXAMPLES]
    assert sorted(match[1] for match in schemas if match) == ["combination", "lora"]


@pytest.mark.parametrize("example", EXAMPLES, ids=["lora", "combination"])
def test_example_validates(example: str, tmp_path: Path) -> None:
    """Each example, saved as <id>.yaml in a copy of data/, passes `python -m generator validate`."""
    shutil.copytree(ROOT / "data", tmp_path / "data")
    shutil.copytree(ROOT / "schemas", tmp_path / "schemas")
    match = re.search(r"schemas/(\w+)\.schema\.json", example)
    assert match is not None
    entry = yaml.safe_load(example)
    (tmp_path / "data" / FOLDER_OF_SCHEMA[match[1]] / f"{entry['id']}.yaml").write_text(
        example, encoding="utf-8"
    )
    done = subprocess.run(
        [sys.executable, "-m", "generator", "--root", str(tmp_path), "validate"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(
    ("prefix", "model"),
    [("", Lora), ("file.", LoraFile), ("claimed.", Claimed)],
    ids=["lora", "file", "claimed"],
)
def test_field_guide_lists_every_field(prefix: str, model: type[Lora | LoraFile | Claimed]) -> None:
    """Every field of the LoRA model has a row in the field guide table."""
    nested = {"file", "claimed"}
    names = [f"{prefix}{name}" for name in model.model_fields if not (prefix == "" and name in nested)]
    missing = [name for name in names if f"| `{name}` |" not in GUIDE]
    assert missing == []
