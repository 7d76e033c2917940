"""lossfns is only the reference: importing it loads no grading, sandbox, instructor or nbgrader code,
and the book's executed pages depend on lossfns (and the pins), never on the grading tools."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOOLING = ("coursework", "nbgrader", "nbformat", "nbconvert", "nbclient", "jupyter_client", "traitlets")


def test_importing_every_module_of_lossfns_loads_no_tooling():
    probe = ("import importlib, json, pkgutil, sys\n"
             "import lossfns\n"
             "for info in pkgutil.walk_packages(lossfns.__path__, 'lossfns.'):\n"
             "    importlib.import_module(info.name)\n"
             "print(json.dumps(sorted(sys.modules)))\n")
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    loaded = json.loads(done.stdout)
    assert "lossfns.functional" in loaded and "lossfns.classifier" in loaded  # the probe did import them
    tooling = [name for name in loaded
               if name.split(".")[0] in TOOLING or "sandbox" in name or "grading" in name]
    assert not tooling, tooling


def test_the_books_execution_cache_ignores_the_grading_tools_and_follows_lossfns(tmp_path):
    sys.path.insert(0, str(ROOT / "book" / "_ext"))
    from course import CACHE_KEY_FILES, code_hash

    for name in CACHE_KEY_FILES:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "lossfns", tmp_path / "lossfns", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "coursework", tmp_path / "coursework",
                    ignore=shutil.ignore_patterns("__pycache__"))
    before = code_hash(tmp_path)
    (tmp_path / "coursework" / "grading" / "verdict.py").write_text("# changed\n", encoding="utf-8")
    (tmp_path / "coursework" / "limits.py").write_text("# changed\n", encoding="utf-8")
    assert code_hash(tmp_path) == before
    (tmp_path / "lossfns" / "functional" / "_regression.py").write_text("# changed\n", encoding="utf-8")
    assert code_hash(tmp_path) != before
