"""Run students' answer cells in a bubblewrap sandbox, from the grader's side.

One ``Sandbox`` is one bubblewrap container holding a zygote process
(``zygote.py``) with torch already imported; each job (one notebook) runs in
children forked from it, so torch is imported once per sandbox, not once per
submission. Inside: no network, a read-only filesystem with only the Python
installation (no course directory, gradebook, solutions or other students'
work), a small scratch folder, a scrubbed environment, an unprivileged uid and
limits on CPU time, memory, processes, file size and wall-clock time.

When bubblewrap cannot run, ``SandboxUnavailable`` stops the grading: student
code is never run unprotected unless ``isolated=False`` is asked for
explicitly (benchmarks and tests of the grader itself).
"""

from __future__ import annotations

import json
import os
import selectors
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Self

from .. import limits as LIMITS
from .blocking import LOSS_LIBRARIES

HERE = Path(__file__).resolve().parent
# All the sandbox can see of the course:
SANDBOX_FILES = ("zygote.py", "blocking.py", "guards.py", "watch.py", "harden.py", "wire.py")
GRADER_DIR = "/opt/grader"
SCRATCH = "/scratch"  # the sandbox's only writable folder (a small tmpfs), emptied after every child
UID_BASE, UID_SPAN = 1_900_000_000, 100_000_000  # uids no account uses


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or cannot create its namespaces here."""


class SandboxCrashed(RuntimeError):
    """The zygote died or stopped answering (a hostile submission can do this)."""


class Sandbox:
    """A bubblewrap container with a torch-loaded zygote; ``run(job)`` grades one notebook.

    Args:
        isolated: False runs the zygote as a plain subprocess (no protection at all).
        memory: address-space limit per process, in bytes.
        processes: processes (threads) a child may start beyond the zygote's own.

    The other limits, and why each has its value, are in ``coursework.limits``.
    """

    _started = 0
    _lock = threading.Lock()

    def __init__(self, *, isolated: bool = True, memory: int = LIMITS.MEMORY_BYTES,
                 processes: int = LIMITS.PROCESSES):
        self.isolated = isolated
        # As root the zygote takes a uid of its own, so that the process limit of one sandbox
        # (counted per uid, system-wide) is never used up by another one grading in parallel.
        with Sandbox._lock:  # worker threads create sandboxes concurrently
            Sandbox._started += 1
            uid = UID_BASE + (os.getpid() * 64 + Sandbox._started) % UID_SPAN
        self.limits = {"memory": memory, "processes": processes, "file_size": LIMITS.FILE_BYTES,
                       "open_files": LIMITS.OPEN_FILES, "output": LIMITS.OUTPUT_BYTES, "uid": uid}
        self._process = None
        self._files = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def start(self) -> None:
        """Start the container and wait until torch is loaded in the zygote."""
        self._files = tempfile.TemporaryDirectory(prefix="lossfns-sandbox-")
        for name in SANDBOX_FILES:
            shutil.copy(HERE / name, self._files.name)
        limits = dict(self.limits)
        if os.getuid() != 0 and self.isolated:
            limits["processes"] += _processes_of_this_user()  # RLIMIT_NPROC counts all of them
        command = self._command(json.dumps(limits))
        self._process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE, start_new_session=True)
        reply = self._read_line(timeout=LIMITS.START_SECONDS)
        if reply is None or not reply.get("ready"):
            error = self._stderr()
            self.close()
            raise SandboxUnavailable(
                "the grading sandbox (bubblewrap) could not start, so grading stops here rather than "
                f"run student code unprotected. bubblewrap said: {error or 'nothing'}")

    def run(self, job: dict, hidden: list[list[dict]] | None = None, *, timeout: float) -> list[dict]:
        """Send one job, return one ``{"lines": [...], "stopped": ...}`` per behaviour.

        ``job["behaviours"][i]["calls"]`` are the shown inputs; ``hidden[i]`` the hidden ones,
        sent only when the zygote asks for them, after the shown ones are answered.

        Raises:
            SandboxCrashed: the zygote died or went silent; the sandbox restarts for the next job.
        """
        if self._process is None or self._process.poll() is not None:
            self.close()
            self.start()
        hidden = hidden or [[] for _ in job["behaviours"]]
        end = time.monotonic() + timeout
        reply = self._send(job) and self._read_line(timeout=timeout)
        while isinstance(reply, dict) and "hidden_for" in reply:
            index = reply["hidden_for"]
            if type(index) is not int or not 0 <= index < len(hidden):
                reply = None
                break
            reply = self._send(hidden[index]) and self._read_line(timeout=end - time.monotonic())
        results = reply.get("results") if isinstance(reply, dict) else None
        if not isinstance(results, list) or len(results) != len(job["behaviours"]):
            self.close()
            raise SandboxCrashed("the sandbox stopped answering")
        return results

    def _send(self, data) -> bool:
        try:
            self._process.stdin.write((json.dumps(data) + "\n").encode())
            self._process.stdin.flush()
            return True
        except (BrokenPipeError, OSError):
            return False

    def close(self) -> None:
        if self._process is not None:
            try:
                os.killpg(self._process.pid, 9)
            except (ProcessLookupError, PermissionError):
                pass
            self._process.wait()
            for stream in (self._process.stdin, self._process.stdout, self._process.stderr):
                stream.close()
            self._process = None
        if self._files is not None:
            self._files.cleanup()
            self._files = None

    def _command(self, limits: str) -> list[str]:
        python = Path(sys.executable)
        zygote = [str(python), "-I", f"{GRADER_DIR}/zygote.py", "--limits", limits, "--scratch", SCRATCH]
        if not self.isolated:  # the zygote empties its scratch folder after each child: give it its own
            scratch = Path(self._files.name) / "scratch"
            scratch.mkdir()
            return [*zygote[:2], str(Path(self._files.name) / "zygote.py"), "--limits", limits,
                    "--scratch", str(scratch)]
        bwrap = shutil.which("bwrap")
        if bwrap is None:
            raise SandboxUnavailable(
                "bubblewrap (bwrap) is not installed, so grading stops here rather than run student "
                "code unprotected. Install it with: sudo apt-get install bubblewrap "
                "(make test installs it when run as root)")
        command = [bwrap, "--die-with-parent", "--new-session", "--unshare-ipc", "--unshare-pid",
                   "--unshare-net", "--unshare-uts", "--unshare-cgroup-try"]
        if os.getuid() != 0:
            command.append("--unshare-user")  # root uses privileged mode and drops to nobody instead
        command += ["--ro-bind", "/usr", "/usr"]
        for name in ("bin", "lib", "lib64", "sbin"):
            root_entry = Path("/") / name
            if root_entry.is_symlink():
                command += ["--symlink", os.readlink(root_entry), f"/{name}"]
            elif root_entry.is_dir():
                command += ["--ro-bind", str(root_entry), f"/{name}"]
        for prefix in sorted({sys.base_prefix, sys.prefix}):
            for parent in reversed(Path(prefix).parents[:-1]):  # readable for the sandbox's uid
                command += ["--perms", "0755", "--dir", str(parent)]
            command += ["--ro-bind", prefix, prefix]
        version = f"python{sys.version_info.major}.{sys.version_info.minor}"
        site_packages = Path(sys.prefix) / "lib" / version / "site-packages"
        for package in LOSS_LIBRARIES:  # hidden from the filesystem as well as refused on import
            if (site_packages / package).is_dir():
                command += ["--tmpfs", str(site_packages / package)]
        # The scratch folder is not /tmp: the course (and so .venv) may itself live under /tmp.
        command += ["--ro-bind", self._files.name, GRADER_DIR, "--proc", "/proc", "--dev", "/dev",
                    "--size", str(LIMITS.SCRATCH_BYTES), "--tmpfs", SCRATCH, "--chdir", SCRATCH, "--clearenv",
                    "--setenv", "PATH", "/usr/bin:/bin", "--setenv", "HOME", SCRATCH,
                    "--setenv", "TMPDIR", SCRATCH,
                    "--setenv", "OMP_NUM_THREADS", "1", "--setenv", "LANG", "C.UTF-8", "--remount-ro", "/"]
        if os.getuid() == 0:
            command += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
        return [*command, *zygote, "--sandboxed"]

    def _read_line(self, *, timeout: float):
        """One JSON line from the zygote, or None on EOF, timeout, oversize or bad JSON."""
        stream = self._process.stdout
        selector = selectors.DefaultSelector()
        selector.register(stream, selectors.EVENT_READ)
        data, end = b"", time.monotonic() + timeout
        try:
            while not data.endswith(b"\n"):
                left = end - time.monotonic()
                if left <= 0 or len(data) > LIMITS.REPLY_BYTES or not selector.select(left):
                    return None
                chunk = os.read(stream.fileno(), 1 << 20)
                if not chunk:
                    return None
                data += chunk
        finally:
            selector.close()
        try:
            return json.loads(data)
        except ValueError:
            return None

    def _stderr(self) -> str:
        try:
            self._process.kill()
            return self._process.stderr.read().decode(errors="replace").strip()[-2000:]
        except (OSError, ValueError):
            return ""


def _processes_of_this_user() -> int:
    """Threads of this uid now (RLIMIT_NPROC counts threads of the real uid, system-wide)."""
    count = 0
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and entry.stat().st_uid == os.getuid():
                count += len(os.listdir(entry / "task"))
        except OSError:
            pass
    return count
