"""The container and cluster examples, checked without a container engine or a cluster.

No image can be built and no job submitted here, so each file is checked for what would break it: the
Containerfile copies files that exist and starts the instructor CLI on /course; the Slurm scripts pass
bash's syntax check and, run with stand-ins for sbatch and the grader, give the CLI arguments it
accepts; the Kubernetes Jobs parse, and their arguments are valid commands with the shard count equal
to the number of completions.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

from coursework.chapters import CHAPTERS
from coursework.instructor.cli import parser
from coursework.instructor.shards import Shard

ROOT = Path(__file__).resolve().parents[3]
ASSIGNMENT = CHAPTERS[0].assignment("es")
DEPLOY = ROOT / "deploy"
RECORD_ARGS = "import json, sys\nopen(sys.argv[1], 'a').write(json.dumps(sys.argv[2:]) + '\\n')\n"


def accepted(argv: list[str]):
    """The CLI's parse of ``argv`` (argparse exits on anything it does not accept)."""
    return parser().parse_args(argv)


def expanded(container: dict) -> list[str]:
    """The container's args with $(VAR) replaced by its env values, as Kubernetes does."""
    env = {item["name"]: item["value"] for item in container.get("env", [])}
    return [re.sub(r"\$\((\w+)\)", lambda m: env[m.group(1)], arg) for arg in container["args"]]


def test_the_containerfile_copies_what_exists_installs_bubblewrap_and_runs_the_cli():
    text = (DEPLOY / "Containerfile").read_text(encoding="utf-8")
    instructions = re.findall(r"^(FROM|RUN|COPY|WORKDIR|ENTRYPOINT|CMD)\s+(.*)$", text, re.MULTILINE)
    assert instructions[0][0] == "FROM" and "python:3.11" in instructions[0][1]
    for kind, rest in instructions:
        if kind == "COPY":
            *sources, _ = rest.split()
            assert all((ROOT / source).exists() for source in sources), rest
    assert "bubblewrap" in text and "-r requirements.txt -c constraints.txt" in text
    entrypoint = json.loads(dict(instructions)["ENTRYPOINT"])
    assert entrypoint == ["python", "-m", "coursework.instructor", "--course", "/course"]
    assert accepted(entrypoint[3:] + ["autograde", ASSIGNMENT, "--shard", "0/4"]).shard == "0/4"
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert {".venv", "submitted", "gradebook.db", ".instructor_seed"} <= set(ignored)


def test_the_slurm_scripts_are_valid_bash_and_give_the_cli_what_it_accepts(tmp_path):
    for script in sorted((DEPLOY / "slurm").iterdir()):
        assert subprocess.run(["bash", "-n", str(script)], check=False).returncode == 0, script.name
    calls, recorder = tmp_path / "calls.jsonl", tmp_path / "grader.py"  # a grader that records its arguments
    recorder.write_text(RECORD_ARGS)
    env = {**os.environ, "ASSIGNMENT": ASSIGNMENT, "SLURM_SUBMIT_DIR": str(tmp_path),
           "SLURM_CPUS_PER_TASK": "4", "SLURM_ARRAY_TASK_COUNT": "8",
           "GRADER": f"{sys.executable} {recorder} {calls}"}
    for script in ("autograde.sbatch", "merge.sbatch"):
        subprocess.run(["bash", str(DEPLOY / "slurm" / script)], env=env, check=True)
    autograde, merge = [json.loads(line) for line in calls.read_text().splitlines()]
    assert autograde[:2] == merge[:2] == ["-m", "coursework.instructor"]
    args = accepted(autograde[2:])
    assert (args.course, args.command, args.assignments) == (str(tmp_path), "autograde", [ASSIGNMENT])
    assert args.workers == 4
    assert Shard.parse(args.shard, {"SLURM_ARRAY_TASK_ID": "3"}) == Shard(3, 8)
    assert accepted(merge[2:]).assignments == [ASSIGNMENT]
    # submit.sh: the array of N tasks, then the merge after all of them succeeded.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "sbatch").write_text(f"#!/bin/sh\necho \"$@\" >> {tmp_path / 'sbatch.log'}\necho 4242\n")
    (bin_dir / "sbatch").chmod(0o755)
    path = f"{bin_dir}{os.pathsep}{os.environ['PATH']}"
    subprocess.run(["bash", str(DEPLOY / "slurm" / "submit.sh"), ASSIGNMENT, "8"], cwd=tmp_path, check=True,
                   env={**os.environ, "PATH": path}, capture_output=True)
    array, then = (tmp_path / "sbatch.log").read_text().splitlines()
    assert "--array=0-7" in array and f"ASSIGNMENT={ASSIGNMENT}" in array
    assert array.endswith("autograde.sbatch")
    assert "--dependency=afterok:4242" in then and then.endswith("merge.sbatch")


def test_the_kubernetes_jobs_parse_and_shard_by_completion_index():
    grade = yaml.safe_load((DEPLOY / "kubernetes" / "autograde-job.yaml").read_text(encoding="utf-8"))
    merge = yaml.safe_load((DEPLOY / "kubernetes" / "merge-job.yaml").read_text(encoding="utf-8"))
    assert grade["kind"] == merge["kind"] == "Job" and grade["spec"]["completionMode"] == "Indexed"
    container = grade["spec"]["template"]["spec"]["containers"][0]
    args = accepted(["--course", "/course", *expanded(container)])
    count = grade["spec"]["completions"]
    assert args.command == "autograde" and args.shard == f"auto/{count}"
    indexes = {Shard.parse(args.shard, {"JOB_COMPLETION_INDEX": str(i)}).index for i in range(count)}
    assert indexes == set(range(count))
    merger = merge["spec"]["template"]["spec"]["containers"][0]
    assert accepted(["--course", "/course", *expanded(merger)]).assignments == args.assignments
    assert merger["image"] == container["image"]
    for job in (grade, merge):
        spec = job["spec"]["template"]["spec"]
        mounts = spec["containers"][0]["volumeMounts"]
        assert [m["mountPath"] for m in mounts] == ["/course"]  # where the image's CLI looks
        assert spec["volumes"][0]["persistentVolumeClaim"]["claimName"] == "lossfns-course"
