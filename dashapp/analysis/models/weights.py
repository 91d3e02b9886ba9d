"""Checkpoint files of torchvision models: where they live and how they arrive.

Only the server decides what is downloaded: the app factory starts one
background download per enabled model whose weights policy asks for
pretrained weights (``start_downloads``), and an operator can run
``python -m dashapp fetch-weights``. Requests never start a download; they
wait for one that is under way (``wait_for``) and read its progress.

One download per file at a time across every process that shares the hub
cache: the downloader holds an exclusive ``flock`` on ``<file>.lock`` next to
the checkpoint. Progress (and a plain failure message) goes to
``<file>.progress.json``, which any worker can read. Details of a failure
(paths, the URL without its password) go to the server log only: mirror URLs
may carry credentials, and paths are nobody else's business.
"""

from __future__ import annotations

import base64
import fcntl
import json
import logging
import os
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torchvision

from dashapp.analysis.messages import N_

log = logging.getLogger(__name__)

DOWNLOAD_TIMEOUT_S = 15.0  # per connect and per read: an offline host must not hang
WAIT_TIMEOUT_S = 1800.0  # the longest a request waits for a download under way
START_GRACE_S = 5.0  # how long a waiter gives an expected download to take its lock
RETRY_AFTER_S = 60.0  # a failure this recent is not retried by another worker
POLL_S = 0.25

ProgressFn = Callable[[float, str], None]

# Names whose download the server started in this process (or in the parent of
# a forked background job, which inherits this set): the only ones a waiter
# waits for. Filled by ``start_downloads`` only.
EXPECTED: set[str] = set()
# name -> (pid of the starting process, set when its download thread ends).
_RUNNING: dict[str, tuple[int, threading.Event]] = {}


class DownloadError(RuntimeError):
    """Weights that cannot be had. ``str()`` is a plain message fit for any
    user; ``detail`` holds what only the operator should read."""

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail or message


@dataclass(frozen=True)
class Progress:
    state: str  # "downloading", "done" or "failed"
    done: int = 0
    total: int = 0
    message: str = ""
    updated: float = 0.0

    @property
    def fraction(self) -> float:
        return min(1.0, self.done / self.total) if self.total else 0.0


def checkpoint_file(name: str) -> Path:
    """Where torchvision's loader looks for ``name``'s ImageNet checkpoint."""
    weights = torchvision.models.get_model_weights(name).DEFAULT
    return Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(weights.url)


def checkpoint_url(name: str, mirror: str | None = None) -> str:
    """torchvision's download address, or the same file name under ``mirror``
    (a team's own copy, for hosts that cannot reach the internet)."""
    url = torchvision.models.get_model_weights(name).DEFAULT.url
    return f"{mirror.rstrip('/')}/{os.path.basename(url)}" if mirror else url


def redact(url: str) -> str:
    """``url`` with any password replaced, for logs."""
    parts = urllib.parse.urlsplit(url)
    if parts.password is None and parts.username is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urllib.parse.urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))


def _request(url: str) -> urllib.request.Request:
    """A request for ``url``; credentials in the URL travel as HTTP Basic
    (urllib cannot use them in the address itself)."""
    parts = urllib.parse.urlsplit(url)
    if parts.username is None:
        return urllib.request.Request(url)
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    bare = urllib.parse.urlunsplit(parts._replace(netloc=host))
    user = urllib.parse.unquote(parts.username)
    password = urllib.parse.unquote(parts.password or "")
    token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    return urllib.request.Request(bare, headers={"Authorization": f"Basic {token}"})


def _progress_path(target: Path) -> Path:
    return target.with_name(f"{target.name}.progress.json")


def _write_progress(target: Path, progress: Progress) -> None:
    path = _progress_path(target)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(json.dumps(asdict(progress)))
    os.replace(tmp, path)  # readers never see half a file


def read_progress(name: str) -> Progress | None:
    """The last progress written for ``name``'s checkpoint, by any process."""
    try:
        raw = json.loads(_progress_path(checkpoint_file(name)).read_text())
        return Progress(**{key: raw[key] for key in ("state", "done", "total", "message", "updated")})
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _fetch(url: str, target: Path, report: Callable[[int, int], None]) -> None:
    """Stream ``url`` into ``target`` atomically (a partial file, then rename)."""
    partial = target.with_name(f"{target.name}.{os.getpid()}.{threading.get_ident()}.partial")
    try:
        with urllib.request.urlopen(_request(url), timeout=DOWNLOAD_TIMEOUT_S) as response, \
                open(partial, "wb") as out:
            total = int(response.headers.get("Content-Length") or 0)
            done = 0
            while chunk := response.read(1 << 20):
                out.write(chunk)
                done += len(chunk)
                report(done, total)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


# What a user reads when weights cannot be had (wording/errors.py translates it).
UNAVAILABLE = N_("ImageNet weights for {model} are not available: {file} could not be downloaded (the server log "
                 "has the details). An operator can run `python -m dashapp fetch-weights`, copy the file into the "
                 "torch hub cache, or set DASHAPP_WEIGHTS=random.")


def _unavailable(name: str, target: Path) -> str:
    return UNAVAILABLE.format(model=name, file=target.name)


def download(name: str, mirror: str | None = None, progress: ProgressFn | None = None, *,
             retry_failed: bool = False) -> Path:
    """Fetch ``name``'s checkpoint into the hub cache unless it is there.

    Holds an exclusive lock on ``<file>.lock`` meanwhile, so whichever
    process comes second waits and then finds the file. A failure less than
    ``RETRY_AFTER_S`` old is reported again instead of retried, unless
    ``retry_failed`` (the operator's command).
    """
    target = checkpoint_file(name)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(target.with_name(f"{target.name}.lock"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        if target.exists():
            return target
        last = read_progress(name)
        if (not retry_failed and last is not None and last.state == "failed"
                and time.time() - last.updated < RETRY_AFTER_S):
            raise DownloadError(last.message or _unavailable(name, target))
        url = checkpoint_url(name, mirror)
        started = time.time()

        def report(done: int, total: int) -> None:
            text = f"Downloading weights for {name}: {done >> 20} of {total >> 20} MB"
            _write_progress(target, Progress("downloading", done, total, text, time.time()))
            if progress and total:
                progress(done / total, text)

        _write_progress(target, Progress("downloading", 0, 0, f"Downloading weights for {name}…", started))
        try:
            _fetch(url, target, report)
        except Exception as exc:  # any failure means "cannot be had"; say why in the log only
            message = _unavailable(name, target)
            detail = f"download of {redact(url)} into {target} failed: {type(exc).__name__}: {exc}"
            log.warning("weights for %s: %s", name, detail)
            _write_progress(target, Progress("failed", 0, 0, message, time.time()))
            raise DownloadError(message, detail) from exc
        size = target.stat().st_size
        _write_progress(target, Progress("done", size, size, f"{name} weights downloaded", time.time()))
        log.info("weights for %s downloaded into %s in %.1f s", name, target, time.time() - started)
        return target
    finally:
        os.close(fd)  # releases the lock


def _lock_is_free(target: Path) -> bool:
    """Whether no process holds the download lock of ``target`` right now."""
    path = target.with_name(f"{target.name}.lock")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)


def start_downloads(names: Iterable[str], mirror: str | None = None) -> list[str]:
    """Start one background download per name whose checkpoint is missing;
    the names started. Called by the app factory, never by a request."""
    started = []
    for name in names:
        running = _RUNNING.get(name)
        if checkpoint_file(name).exists() or (running is not None and not running[1].is_set()):
            continue  # there, or already coming (a finished attempt may be tried again by a new app)
        EXPECTED.add(name)
        finished = threading.Event()
        _RUNNING[name] = (os.getpid(), finished)

        def run(model: str = name, event: threading.Event = finished) -> None:
            try:
                download(model, mirror)
            except DownloadError:
                pass  # logged by download(); waiters read the progress file
            except Exception:
                log.exception("weights download for %s failed", model)
            finally:
                event.set()

        threading.Thread(target=run, name=f"weights-{name}", daemon=True).start()
        started.append(name)
    return started


def poll(name: str, waited_s: float = START_GRACE_S) -> Progress:
    """Where ``name``'s checkpoint stands, without waiting: "done", "failed"
    (missing, and no download of it is coming; the message is plain) or
    "downloading" (the last progress written). ``waited_s``: how long the
    caller has waited so far, for the grace an expected download gets to
    take its lock in another process."""
    target = checkpoint_file(name)
    if target.exists():
        return Progress("done", 1, 1, f"{name} weights ready", time.time())
    state = read_progress(name)
    running = _RUNNING.get(name)
    finished = running[1] if running is not None and running[0] == os.getpid() else None
    if state is not None and state.state == "failed" and (finished is None or finished.is_set()):
        return state
    if finished is not None:
        coming = not finished.is_set()
    else:  # another process's download, or the parent's (a forked job)
        coming = not _lock_is_free(target) or (name in EXPECTED and waited_s < START_GRACE_S)
    if not coming:
        return Progress("failed", 0, 0, _unavailable(name, target), time.time())
    if state is not None and state.state == "downloading":
        return state
    return Progress("downloading", 0, 0, f"Waiting for the weights of {name}…", time.time())


def wait_for(name: str, progress: ProgressFn | None = None, timeout_s: float = WAIT_TIMEOUT_S) -> Path:
    """The checkpoint of ``name`` once present; waits for a download that the
    server started, and never starts one. Raises ``DownloadError`` (plain
    message) when the file is missing and no download of it is coming."""
    target = checkpoint_file(name)
    began = time.monotonic()
    while True:
        waited = time.monotonic() - began
        state = poll(name, waited)
        if state.state == "done":
            return target
        if state.state == "failed" or waited > timeout_s:
            raise DownloadError(state.message or _unavailable(name, target),
                                f"{target} is missing and no download of it is under way")
        if progress:
            progress(state.fraction, state.message)
        time.sleep(POLL_S)
