"""The sandbox itself: what student code can see and do in there, and what the grader gets back."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import torch

from coursework.chapters import CHAPTERS
from coursework.grading import sandbox as sandbox_module
from coursework.grading.grade import outcomes_of
from coursework.grading.outcome import Raised, Returned, Unavailable
from coursework.grading.sandbox import Sandbox, SandboxCrashed, SandboxUnavailable
from coursework.grading.watch import Rules
from coursework.grading.wire import encode

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def box():
    with Sandbox() as sandbox:
        yield sandbox


def run(box, code, function="probe", args=(), *, blocked=(), autograd=True, timeout=10.0, calls=1,
        rules=None):
    """Run ``code`` then ``function(*args)`` in the sandbox (under ``rules``, by default anything but
    autograd when ``autograd`` is False); return the outcomes."""
    rules = rules or Rules(library=True, autograd=autograd)
    job = {"language": "en", "blocked": list(blocked), "provided": [], "code": [code],
           "behaviour_timeout": timeout, "total_timeout": timeout * 2,
           "behaviours": [{"function": function, "rules": rules.to_wire(), "hidden": 0,
                           "calls": [{"args": encode(tuple(args)), "kwargs": encode({})}] * calls}]}
    return outcomes_of(box.run(job, timeout=timeout * 2 + 30)[0], calls, timeout)


def value(box, code, *args, **options):
    outcome, = run(box, code, "probe", args, **options)
    assert isinstance(outcome, Returned), outcome
    return outcome.value


def test_student_code_runs_as_an_unprivileged_user_with_an_empty_environment(box):
    uid, environment = value(box, "import os\ndef probe():\n    return os.getuid(), sorted(os.environ)")
    assert uid != 0 and uid != os.getuid()
    # set by the sandbox, except TORCHINDUCTOR_CACHE_DIR, which torch sets when it loads
    assert set(environment) <= {"PATH", "HOME", "TMPDIR", "OMP_NUM_THREADS", "LANG", "PWD",
                                "TORCHINDUCTOR_CACHE_DIR"}


def test_the_course_the_gradebook_and_the_solutions_are_not_there(box):
    listing = value(box, f"import os\ndef probe():\n    return sorted(os.listdir({str(ROOT)!r}))")
    assert listing == [".venv"]  # only the Python environment is mounted
    for path in (ROOT / "solutions", ROOT / "lossfns", ROOT / "gradebook.db", ROOT / "nbgrader_config.py"):
        exists = value(box, f"import os\ndef probe():\n    return os.path.exists({str(path)!r})")
        assert exists is False, path


def test_the_filesystem_is_read_only_except_a_small_scratch_folder(box):
    code = ("def probe(path, size):\n    try:\n        with open(path, 'wb') as f:\n"
            "            f.write(b'x' * size)\n        return 'written'\n"
            "    except OSError as error:\n        return type(error).__name__\n")
    assert value(box, code, "notes.txt", 1000) == "written"  # the working directory is scratch
    assert value(box, code, str(Path(torch.__file__)), 10) != "written"
    for elsewhere in ("/usr/lib/x", "/x", "/tmp/x", "/opt/grader/blocking.py"):
        assert value(box, code, elsewhere, 10) != "written", elsewhere
    assert value(box, code, "big.bin", 200 * 2**20) != "written"  # file size and /tmp limits


def test_there_is_no_network(box):
    code = ("import socket\ndef probe():\n    s = socket.socket()\n    s.settimeout(2)\n    try:\n"
            "        s.connect(('1.1.1.1', 80))\n        return 'connected'\n"
            "    except OSError as error:\n        return error.errno\n")
    assert value(box, code) != "connected"


def test_processes_and_memory_are_limited(box):
    forks = ("import os\ndef probe():\n    n = 0\n    try:\n        for _ in range(100):\n"
             "            if os.fork() == 0:\n                import time; time.sleep(5); os._exit(0)\n"
             "            n += 1\n    except OSError:\n        pass\n    return n\n")
    assert value(box, forks) < 10
    outcome, = run(box, "def probe():\n    return len(bytearray(8 * 2**30))")
    assert isinstance(outcome, Raised) and outcome.name == "MemoryError"


def test_a_call_that_never_returns_is_stopped_at_its_time_limit(box):
    outcomes = run(box, "def probe():\n    while True:\n        pass\n", timeout=1.0, calls=2)
    assert outcomes == [Unavailable("timeout", "1 s")] * 2


def test_nothing_a_student_leaves_behind_survives_into_the_next_job(box):
    leave = ("import os, time\ndef probe():\n    if os.fork() == 0:\n        os.setsid()\n"
             "        time.sleep(30)\n"
             "    open(os.path.join(os.environ['HOME'], 'left-over'), 'w').write('x')\n"
             "    return os.getpid()\n")
    value(box, leave)
    look = ("import os\ndef state(pid):\n    try:\n"
            "        return open(f'/proc/{pid}/stat').read().rsplit(')', 1)[1].split()[0]\n"
            "    except OSError:\n        return 'gone'\n"
            "def probe():\n"
            "    pids = [p for p in os.listdir('/proc') if p.isdigit() and state(p) not in ('Z', 'gone')]\n"
            "    return len(pids), os.path.exists(os.path.join(os.environ['HOME'], 'left-over'))\n")
    processes, left_over = value(box, look)
    assert processes == 3  # bubblewrap's init, the zygote, this child (zombies do not count)
    assert left_over is False


def test_losses_and_blocked_primitives_are_refused_however_they_are_called(box):
    x = torch.randn(3, 4)
    forms = {
        "torch.nn.functional.cross_entropy(x, torch.tensor([0, 1, 2]))": (),
        "torch.nn.CrossEntropyLoss()(x, torch.tensor([0, 1, 2]))": (),
        "torch.ops.aten.nll_loss_nd.default(x, torch.tensor([0, 1, 2]), None, 1, -100)": (),
        "torch.nn.functional.gaussian_nll_loss(x, x, torch.ones(3, 4))": (),
        "torch.softmax(x, 1)": ("softmax",),
        "x.log_softmax(1)": ("log_softmax",),
        "torch._C.TensorBase.softmax(x, 1)": ("softmax",),
        "torch.special.log_softmax(x, 1)": ("log_softmax",),
        "torch.nn.functional.one_hot(torch.tensor([0, 2]))": ("one_hot",),
        "torch.nn.PReLU()(x)": ("prelu",),
    }
    for expression, blocked in forms.items():
        outcome, = run(box, f"def probe(x):\n    return {expression}\n", args=(x,), blocked=blocked)
        assert isinstance(outcome, Raised) and "not allowed when grading" in outcome.message, expression
    allowed, = run(box, "def probe(x):\n    return torch.logsumexp(x, 1)\n", args=(x,), blocked=("softmax",))
    assert isinstance(allowed, Returned) and torch.allclose(allowed.value, torch.logsumexp(x, 1))


def test_hidden_inputs_reach_the_child_only_after_it_answered_the_shown_ones(box):
    # The marker is spelled with character codes, so that the probe's own source does not contain it.
    # gc's object walks are refused in the sandbox (test_gc_cannot_walk_the_graders_objects); the probe
    # tries them, then looks through every frame and its locals.
    probe = ("import gc, sys\nMARK = ''.join(map(chr, [83, 69, 67, 82, 69, 84, 45, 52, 55, 49, 49]))\n"
             "def probe(x):\n"
             "    def has(o):\n        return (isinstance(o, str) and o is not MARK and MARK in o) or "
             "(isinstance(o, (bytes, bytearray)) and MARK.encode() in o)\n"
             "    try:\n        objects = gc.get_objects()\n    except Exception:\n        objects = []\n"
             "    frame = sys._getframe()\n    while frame:\n"
             "        objects += list(frame.f_locals.values())\n        frame = frame.f_back\n"
             "    return any(has(o) or (isinstance(o, (list, tuple, dict)) and any(has(i) for i in "
             "(o.values() if isinstance(o, dict) else o))) for o in objects)\n")
    shown = {"args": encode(("shown",)), "kwargs": encode({})}
    hidden = {"args": encode(("SECRET-4711",)), "kwargs": encode({})}
    rules = Rules(library=True, autograd=True).to_wire()
    job = {"language": "en", "blocked": [], "provided": [], "code": [probe], "behaviour_timeout": 10,
           "total_timeout": 20, "behaviours": [{"function": "probe", "rules": rules, "calls": [shown],
                                                "hidden": 1}]}
    outcomes = outcomes_of(box.run(job, [[hidden]], timeout=60)[0], 2, 10)
    assert outcomes == [Returned(False), Returned(True)]  # only the hidden call can see the secret


def test_importing_the_course_code_fails_with_a_clear_message(box):
    for module in ("lossfns", "coursework", "solutions", CHAPTERS[0].checks, "keras", "keras.losses",
                   "scipy.special"):
        outcome, = run(box, f"def probe():\n    import {module}\n")
        assert isinstance(outcome, Raised) and "cannot be imported when grading" in outcome.message, module
    escape = "import sys\ndef probe():\n    sys.meta_path.pop(0)\n    import keras.losses\n"
    outcome, = run(box, escape)  # without the import blocker, keras is still not on disk
    assert isinstance(outcome, Raised) and outcome.name == "ModuleNotFoundError"


def test_autograd_is_unavailable_where_a_check_says_so(box):
    code = ("def probe(x):\n    x = x.clone().requires_grad_(True)\n    with torch.enable_grad():\n"
            "        (x ** 2).sum().backward()\n    return x.grad\n")
    outcome, = run(box, code, args=(torch.ones(2),), autograd=False)
    assert isinstance(outcome, Raised) and "autograd is unavailable" in outcome.message
    outcome, = run(box, code, args=(torch.ones(2),), autograd=True)
    assert isinstance(outcome, Returned) and torch.equal(outcome.value, torch.full((2,), 2.0))


def test_the_sandbox_survives_a_student_who_kills_it(box):
    with pytest.raises(SandboxCrashed):
        run(box, "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\ndef probe():\n    return 1\n")
    assert value(box, "def probe():\n    return 41 + 1") == 42  # restarted for the next job


def test_grading_stops_with_a_clear_message_when_bubblewrap_is_missing(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(SandboxUnavailable, match="bubblewrap .* not installed.*unprotected"):
        Sandbox().start()


def test_grading_stops_with_a_clear_message_when_bubblewrap_cannot_run(monkeypatch, tmp_path):
    broken = tmp_path / "bwrap"
    broken.write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n")
    broken.chmod(0o755)
    monkeypatch.setattr(shutil, "which", lambda name: str(broken))
    with pytest.raises(SandboxUnavailable, match="could not start.*No permissions to create new namespace"):
        Sandbox().start()
    assert sandbox_module.SANDBOX_FILES  # the module is still usable afterwards


def test_gc_cannot_walk_the_graders_objects(box):
    code = ("import gc\ndef probe():\n    found = []\n"
            "    for walk in (gc.get_objects, lambda: gc.get_referrers(probe),\n"
            "                 lambda: gc.get_referents(probe)):\n        try:\n            walk()\n"
            "            found.append('walked')\n        except Exception as error:\n"
            "            found.append(type(error).__name__)\n    return found\n")
    assert value(box, code) == ["Refused"] * 3
