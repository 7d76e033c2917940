"""The sandbox's resident process: torch loaded once, one forked child per behaviour.

Run by ``sandbox.Sandbox`` as ``python -I zygote.py`` inside bubblewrap. It
imports torch, blocks the losses and the forbidden imports, drops to an
unprivileged uid, says ``{"ready": ...}`` and then reads one job per line on
stdin. For each behaviour of a job it forks a child that runs the student's
answer cells in a fresh namespace and calls the function on each case, writing
one JSON line per call to a pipe. The zygote relays those lines unparsed
(the grader checks them), stops a child at its time limit, and after every
child kills whatever it left behind.

Standalone: imports only torch and the standard library.
"""

from __future__ import annotations

import builtins
import ctypes
import json
import math
import os
import resource
import select
import shutil
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import blocking
import guards
import harden
import torch
import watch
import wire

PR_SET_DUMPABLE = 4
SCRATCH = "/scratch"  # set by --scratch: the sandbox's scratch tmpfs, or a private folder when not isolated


def cross_entropy(input, target):
    """Mean cross-entropy of logits (N, C) and class indices (N,): given to an exercise that trains a
    classifier (listed in PROVIDED of its check module)."""
    return (torch.logsumexp(input, dim=1) - input.gather(1, target[:, None]).squeeze(1)).mean()


PROVIDED = {"cross_entropy": cross_entropy}
KEEP_ALIVE = []
PLACES = []  # where the loaded modules hold what a child locks (harden.survey, once, before any child)


def warm_up() -> None:
    """Import now what torch loads lazily on first use (an optimizer step pulls in torch._dynamo),
    so that every child does not pay for it again. Forward-mode AD's decompositions too (0.4 s): they
    are compiled with TorchScript on first use, which the child refuses, so a student's forward-mode
    AD reaches the watch's own refusal instead."""
    import torch._decomp.decompositions_for_jvp

    weight = torch.zeros(2, requires_grad=True)
    optimizer = torch.optim.Adam([weight], lr=0.1)
    (weight ** 2).sum().backward()
    optimizer.step()


def main() -> None:
    global SCRATCH
    sandboxed = "--sandboxed" in sys.argv  # inside bubblewrap, in a pid namespace of its own
    SCRATCH = sys.argv[sys.argv.index("--scratch") + 1]
    torch.set_num_threads(1)
    warm_up()
    blocking.block_imports()
    blocking.block_losses()
    PLACES[:] = harden.survey()
    limits = json.loads(sys.argv[sys.argv.index("--limits") + 1])  # coursework/limits.py's, and a uid
    if sandboxed and os.getuid() == 0:  # privileged bubblewrap (CI runs as root): become an unused uid
        os.chmod(SCRATCH, 0o1777)
        forbid_ipc()
        os.setgroups([])
        os.setgid(limits["uid"])
        os.setuid(limits["uid"])
    ctypes.CDLL(None).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)  # children cannot ptrace or read us
    # RLIMIT_NPROC counts the threads of the uid: ours now, plus a few for the child and what it starts.
    processes = len(os.listdir("/proc/self/task")) + limits["processes"]
    resource.setrlimit(resource.RLIMIT_NPROC, (processes, processes))
    out = sys.stdout
    out.write(json.dumps({"ready": True, "uid": os.getuid()}) + "\n")
    out.flush()
    for line in sys.stdin:
        job = json.loads(line)
        results = []
        deadline = time.monotonic() + job["total_timeout"]
        for index, behaviour in enumerate(job["behaviours"]):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                results.append({"lines": [], "stopped": "notebook timeout"})
                continue
            timeout = min(job["behaviour_timeout"], remaining)
            results.append(run_child(job, behaviour, index, timeout, limits, sandboxed, out))
        out.write(json.dumps({"results": results}) + "\n")
        out.flush()


def run_child(job, behaviour, index, timeout, limits, sandboxed, out) -> dict:
    """Fork a child for one behaviour, collect its lines, clean up after it.

    The child starts with the shown inputs only. The hidden ones are asked from the grader
    (``{"hidden_for": index}``) once the shown ones are all answered, and passed to the child
    through a pipe: while it can still fail on a shown input (whose feedback is printed), no
    hidden input is anywhere in its memory.
    """
    read_end, write_end = os.pipe()
    hidden_read, hidden_write = os.pipe()
    scratch = os.path.join(SCRATCH, f"job{index}")
    pid = fork()
    if pid == 0:
        os.close(read_end)
        os.close(hidden_write)
        try:
            child(job, behaviour, write_end, hidden_read, scratch, timeout, limits)
        finally:
            os._exit(0)
    os.close(write_end)
    os.close(hidden_read)
    end = time.monotonic() + timeout
    shown = len(behaviour["calls"])
    lines, stopped = collect(read_end, pid, end, shown, limits["output"])
    if stopped is None and len(lines) == shown and behaviour["hidden"]:
        out.write(json.dumps({"hidden_for": index}) + "\n")
        out.flush()
        stopped = send(hidden_write, sys.stdin.readline().encode(), end)
        if stopped is None:
            more, stopped = collect(read_end, pid, end, behaviour["hidden"], limits["output"])
            lines += more
    os.close(hidden_write)
    os.close(read_end)
    cleanup(pid, sandboxed)
    remove_ipc()
    for entry in os.listdir(SCRATCH):  # nothing written by one child is there for the next
        path = os.path.join(SCRATCH, entry)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            try:
                os.unlink(path)
            except OSError:
                pass
    return {"lines": lines, "stopped": stopped}


def forbid_ipc() -> None:
    """No System V shared memory, semaphores or message queues in this sandbox's IPC namespace:
    shared memory is not counted by the per-process memory limit and outlives a child."""
    for name, value in (("shmmni", "0"), ("msgmni", "0"), ("sem", "0 0 0 0")):
        with open(f"/proc/sys/kernel/{name}", "w") as setting:
            setting.write(value)


def remove_ipc() -> None:
    """Remove the System V objects a child left (where they could not be forbidden)."""
    libc = ctypes.CDLL(None)
    removers = {"shm": lambda i: libc.shmctl(i, 0, None), "msg": lambda i: libc.msgctl(i, 0, None),
                "sem": lambda i: libc.semctl(i, 0, 0)}
    for kind, remove in removers.items():
        try:
            with open(f"/proc/sysvipc/{kind}") as table:
                rows = table.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            remove(int(row.split()[1]))  # IPC_RMID on the object's id (second column)


def fork() -> int:
    """os.fork, waiting (up to 5 s) for the processes a previous child left to be reaped."""
    for _ in range(500):
        try:
            return os.fork()
        except BlockingIOError:
            time.sleep(0.01)
    return os.fork()


def send(fd, data: bytes, end: float) -> str | None:
    """Write ``data`` to the child's pipe by ``end``; None, or why it could not."""
    view = memoryview(data)
    while view:
        left = end - time.monotonic()
        if left <= 0:
            return "timeout"
        if not select.select([], [fd], [], left)[1]:
            continue
        try:
            view = view[os.write(fd, view[:65536]):]
        except BrokenPipeError:
            return "exit before its hidden inputs"
    return None


def collect(fd, pid, end, expected, max_bytes):
    """Read the child's lines until all ``expected`` came, it exits, ``end`` passes, or it sends more than
    ``max_bytes``."""
    buffer, stopped = b"", None
    while buffer.count(b"\n") < expected:
        left = end - time.monotonic()
        if left <= 0:
            stopped = "timeout"
            break
        if not select.select([fd], [], [], left)[0]:
            continue
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            stopped = _exit_status(pid, end)
            break
        buffer += chunk
        if len(buffer) > max_bytes:
            stopped = "too much output"
            break
    lines = buffer.decode("utf-8", "replace").splitlines()[:expected]
    return lines, stopped


def _exit_status(pid, end):
    """How the child ended, waiting for it until ``end`` at most."""
    while time.monotonic() < end:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            if os.WIFSIGNALED(status):
                return f"signal {os.WTERMSIG(status)}"
            return f"exit {os.WEXITSTATUS(status)}"
        time.sleep(0.005)
    return "timeout"


def cleanup(pid, sandboxed) -> None:
    """Kill the child and everything it started, and reap what is ours to reap."""
    for target in (-pid, pid):
        try:
            os.kill(target, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    # Only ever inside the sandbox's own pid namespace (where this process has a small pid):
    # kill(-1) reaches every process here but this one and bubblewrap's init, which reaps them.
    if sandboxed and os.getpid() < 10:
        end = time.monotonic() + 2
        while _others_alive() and time.monotonic() < end:
            try:
                os.kill(-1, signal.SIGKILL)
            except ProcessLookupError:
                break
            time.sleep(0.001)
    while True:  # reap our own children (WNOHANG: whatever is left is a zombie bubblewrap reaps)
        try:
            if os.waitpid(-1, os.WNOHANG)[0] == 0:
                break
        except ChildProcessError:
            break


def _others_alive() -> bool:
    """Whether a process other than this one and the sandbox's init still runs (zombies do not)."""
    for name in os.listdir("/proc"):
        if name.isdigit() and int(name) not in (1, os.getpid()):
            try:
                with open(f"/proc/{name}/stat") as stat:
                    if stat.read().rsplit(")", 1)[1].split()[0] != "Z":
                        return True
            except OSError:
                pass
    return False


def child(job, behaviour, out_fd, hidden_fd, scratch, timeout, limits) -> None:
    """Run the student's cells and the calls of one behaviour; never returns."""
    os.setsid()
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    low, high = sorted((out_fd, hidden_fd))  # keep only this child's two pipes, none of the zygote's
    os.closerange(3, low)
    os.closerange(low + 1, high)
    os.closerange(high + 1, 1 << 16)
    seconds = math.ceil(timeout) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds))
    resource.setrlimit(resource.RLIMIT_AS, (limits["memory"], limits["memory"]))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits["file_size"], limits["file_size"]))
    resource.setrlimit(resource.RLIMIT_NOFILE, (limits["open_files"], limits["open_files"]))
    os.makedirs(scratch, exist_ok=True)
    os.chdir(scratch)
    language = job["language"]
    blocking.LANGUAGE = language
    blocking.block_primitives(job["blocked"])
    blocking.lock_dispatcher()
    rules = watch.Rules.from_wire(behaviour["rules"])
    if not rules.autograd:  # from before the answer cells run: no reference to keep for later
        guard = guards.autograd_unavailable(language)
        guard.__enter__()
        KEEP_ALIVE.append(guard)  # a collected guard would put autograd back
    # The watch sees everything from here on: the answer cells' constants and the decoded inputs are
    # remembered, and the calls of the student's function are held to the rules.
    observer = watch.Watch(rules, language).start()
    capture, intact = harden.stacks()
    capture(observer.modes)
    harden.lock(watch.REFUSALS[language]["tamper"], autograd=rules.autograd,
                autograd_text=guards.AUTOGRAD_MESSAGE[language], places=PLACES)
    PLACES.clear()  # the originals it held are gone with it: nothing left for the answer cells to find
    namespace = {"__name__": "__main__", "__builtins__": builtins, "torch": torch, "math": math}
    namespace.update({name: PROVIDED[name] for name in job["provided"]})
    cell_error = None
    for number, source in enumerate(job["code"], start=1):
        try:
            exec(compile(source, f"<answer cell {number}>", "exec"), namespace)
        except BaseException as error:  # noqa: BLE001 (SystemExit too: the student's code is the outcome)
            cell_error = cell_error or _raised(error, f" (answer cell {number})")
    for call in behaviour["calls"]:  # the shown inputs
        _answer(out_fd, run_call(namespace, behaviour, call, cell_error, observer, intact))
    if behaviour["hidden"]:
        with os.fdopen(hidden_fd, "rb") as hidden:
            calls = json.loads(hidden.readline())
        for call in calls:
            _answer(out_fd, run_call(namespace, behaviour, call, cell_error, observer, intact))


def _answer(out_fd, outcome) -> None:
    data = (json.dumps(outcome) + "\n").encode()
    while data:
        data = data[os.write(out_fd, data):]


def run_call(namespace, behaviour, call, cell_error, observer, intact) -> dict:
    function = namespace.get(behaviour["function"])
    if not callable(function):
        return cell_error or {"missing": True}
    try:
        args, kwargs = wire.decode(call["args"]), wire.decode(call["kwargs"])
        result = observer.call(function, args, kwargs, budget=call.get("budget"), forward=call.get("forward"))
        if not intact(observer.modes):
            return {"raised": ["NotAllowed", observer.message("tamper", detail="torch modes")]}
        return {"returned": wire.encode(result)}
    except BaseException as error:  # noqa: BLE001
        return _raised(error)


def _raised(error, where="") -> dict:
    try:
        message = str(error)[:500]
    except BaseException:  # noqa: BLE001 (a hostile __str__)
        message = ""
    return {"raised": [type(error).__name__[:80], message + where]}


if __name__ == "__main__":
    main()
