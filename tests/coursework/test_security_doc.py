"""SECURITY.md names, for each attack class, the tests that prove the defence: those tests exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TESTS = ROOT / "tests" / "coursework"


def table_rows() -> list[str]:
    text = (ROOT / "SECURITY.md").read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line.startswith("| ") and not line.startswith("| attack")]


def test_every_attack_class_names_at_least_one_test():
    rows = table_rows()
    assert len(rows) >= 15
    for row in rows:
        assert "test" in row.split("|")[3] or "attack" in row.split("|")[3], row


def test_the_named_tests_and_attacks_exist():
    sources = {path.name: path.read_text(encoding="utf-8") for path in TESTS.rglob("test_*.py")}
    text = "\n".join(table_rows())
    for module, names in re.findall(r"`(test_\w+\.py)((?:::[\w.]+)*)`", text):
        assert module in sources, module
        for name in filter(None, names.split("::")):
            if not name.startswith("..."):
                assert f"def {name}(" in sources[module], f"{module}::{name}"
    adversarial = sources["test_adversarial.py"]
    for attack in re.findall(r"`([a-z]+(?:-[a-z]+)+)`", text):
        assert f'"{attack}"' in adversarial, attack
