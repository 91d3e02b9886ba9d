"""dashapp/analysis/models/weights.py: one download per file across processes, a
progress file any worker can read, waiters that never start a download, and
the operator's ``python -m dashapp fetch-weights``."""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dashapp.__main__ import main
from dashapp.analysis.models import weights
from dashapp.analysis.models.registry import ModelRegistry
from tests.support.mirror import RecordingMirror

CHECKPOINT = "alexnet-owt-7be5be79.pth"
PAYLOAD = os.urandom(3 << 20)  # not a real checkpoint: these tests only move files


@pytest.fixture
def torch_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setattr(weights, "EXPECTED", set())
    monkeypatch.setattr(weights, "_RUNNING", {})
    return tmp_path / "torch"


class CountingFlock:
    """Stands in for the fcntl module inside weights: counts who asked for the lock."""

    def __init__(self) -> None:
        self.exclusive = 0
        self.lock = threading.Lock()
        self.LOCK_EX, self.LOCK_SH, self.LOCK_NB = fcntl.LOCK_EX, fcntl.LOCK_SH, fcntl.LOCK_NB

    def flock(self, fd: int, operation: int) -> Any:
        if operation == fcntl.LOCK_EX:
            with self.lock:
                self.exclusive += 1
        return fcntl.flock(fd, operation)


@pytest.fixture
def gated_mirror(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[RecordingMirror, CountingFlock]]:
    """A mirror that holds its first answer until every downloader has asked for
    the lock: without the lock, all of them would be fetching at that moment."""
    counting = CountingFlock()
    monkeypatch.setattr(weights, "fcntl", counting)
    everyone = threading.Event()
    server = RecordingMirror({CHECKPOINT: PAYLOAD}, before_answer=lambda: everyone.wait(30))
    server.everyone = everyone  # type: ignore[attr-defined]
    try:
        yield server, counting
    finally:
        everyone.set()
        server.stop()


def test_concurrent_downloads_of_one_file_fetch_it_once(torch_home: Path, gated_mirror: Any) -> None:
    mirror, counting = gated_mirror
    results: list[Path] = []
    errors: list[BaseException] = []

    def fetch() -> None:
        try:
            results.append(weights.download("alexnet", mirror.url()))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=fetch) for _ in range(4)]
    for thread in threads:
        thread.start()
    while counting.exclusive < 4 and not errors:  # every downloader has reached the lock
        threading.Event().wait(0.01)
    mirror.everyone.set()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert [s.path for s in mirror.requests()] == [f"/weights/{CHECKPOINT}"]
    target = torch_home / "hub" / "checkpoints" / CHECKPOINT
    assert results == [target] * 4 and target.read_bytes() == PAYLOAD
    progress = weights.read_progress("alexnet")
    assert progress is not None and progress.state == "done" and progress.fraction == 1.0
    assert not list(target.parent.glob("*.partial"))


def test_waiting_never_starts_a_download(torch_home: Path) -> None:
    mirror = RecordingMirror({CHECKPOINT: PAYLOAD})
    try:
        # Not started by the server: nothing is coming, said at once, nothing fetched.
        registry = ModelRegistry(("alexnet",), policy="auto", device="cpu", mirror=mirror.url())
        assert registry.download_progress("alexnet").state == "failed"
        with pytest.raises(weights.DownloadError, match=CHECKPOINT):
            weights.wait_for("alexnet")
        assert not registry.get("alexnet").weights.pretrained  # falls back; downloads nothing
        assert mirror.requests() == []
        # Started by the server (the app factory's call): the waiter gets the file.
        assert registry.start_downloads() == ["alexnet"]
        seen: list[float] = []
        path = weights.wait_for("alexnet", lambda fraction, _text: seen.append(fraction))
        assert registry.download_progress("alexnet").state == "done"
        assert path.read_bytes() == PAYLOAD
        assert [s.path for s in mirror.requests()] == [f"/weights/{CHECKPOINT}"]
    finally:
        mirror.stop()


def test_random_policy_and_models_not_enabled_start_nothing(torch_home: Path) -> None:
    mirror = RecordingMirror({CHECKPOINT: PAYLOAD})
    try:
        assert ModelRegistry(("alexnet",), policy="random", device="cpu", mirror=mirror.url()).start_downloads() == []
        registry = ModelRegistry(("alexnet",), policy="auto", device="cpu", mirror=mirror.url())
        assert not registry.needs_download("vit_h_14") and not registry.needs_download("resnet18")
        assert registry.needs_download("alexnet")
        assert mirror.requests() == []
    finally:
        mirror.stop()


def test_operator_command_fetches_enabled_models(torch_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """``python -m dashapp fetch-weights``, run through its entry point in-process."""
    mirror = RecordingMirror({CHECKPOINT: PAYLOAD})
    try:
        for name, value in {"DASHAPP_MODELS": "alexnet", "DASHAPP_WEIGHTS_MIRROR": mirror.url(),
                            "DASHAPP_DATA_DIR": str(tmp_path / "data"), "DASHAPP_DEVICE": "cpu",
                            "DASHAPP_WEIGHTS": "random"}.items():
            monkeypatch.setenv(name, value)
        assert main(["fetch-weights"]) == 0
        assert "DASHAPP_WEIGHTS=random" in capsys.readouterr().out
        assert mirror.requests() == []
        monkeypatch.setenv("DASHAPP_WEIGHTS", "auto")
        assert main(["fetch-weights"]) == 0
        assert (torch_home / "hub" / "checkpoints" / CHECKPOINT).read_bytes() == PAYLOAD
        assert [s.path for s in mirror.requests()] == [f"/weights/{CHECKPOINT}"]
        assert "alexnet:" in capsys.readouterr().out
        assert main(["fetch-everything"]) == 2
    finally:
        mirror.stop()
