"""Faults under the app: a full or broken cache, Redis down or slow, a model
whose weights cannot be had, a burst of identical requests, and a worker
killed in the middle of writing.

Every answer is compared with the one a healthy app gives for the same
input: a fault may cost time (a recompute), never correctness, and never a 500.
Servers started here (redis-server) bind 127.0.0.1 and stop in teardown.
"""

from __future__ import annotations

import errno
import io
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from dash import Dash, no_update
from flask.testing import FlaskClient

from dashapp import create_app, store
from dashapp.analysis.models import registry as models_module
from dashapp.analysis.models import weights as weights_module
from dashapp.analysis.models.registry import ModelRegistry
from dashapp.config.settings import Settings
from dashapp.intake import accept_bytes
from dashapp.service import Analyzer
from dashapp.store import ActivationStore, FileImageStore, make_backend
from devtools.servers import RedisServer, random_png, wait_for
from tests.support import dash_harness as harness
from tests.support import synthetic

REPO_ROOT = Path(__file__).resolve().parents[2]
QUERY = "model=alexnet&layer=features.3&n=5&criterion=balanced"
REDIS_READY_S = 15.0


# --------------------------------------------------------------------------- apps


@dataclass
class Site:
    app: Dash
    analyzer: Analyzer
    client: FlaskClient

    def upload(self, data: bytes) -> str:
        answer = self.client.post("/api/images", data={"file": (io.BytesIO(data), "image.png")},
                                  content_type="multipart/form-data")
        assert answer.status_code == 201, answer.get_data(as_text=True)[:300]
        return str(answer.get_json()["sha256"])

    def analysis(self, sha: str, query: str = QUERY) -> Any:
        return self.client.get(f"/api/analysis?image={sha}&{query}")

    def callback(self, output: str) -> Callable[..., Any]:
        return harness.find_callback(self.app, output)


def build_site(settings: Settings, registry: ModelRegistry | None, backend: Any = None) -> Site:
    analyzer = Analyzer(settings, registry=registry, backend=backend)
    app = create_app(settings, analyzer)
    return Site(app, analyzer, app.server.test_client())


@pytest.fixture(scope="module")
def reference(make_settings: Callable[..., Settings], registry: ModelRegistry) -> Callable[[bytes, str], Any]:
    """What a healthy app answers: the yardstick for every degraded answer."""
    site = build_site(make_settings(), registry)

    def answer(data: bytes, query: str = QUERY) -> Any:
        response = site.analysis(site.upload(data), query)
        assert response.status_code == 200
        return response.get_json()

    return answer


def assert_ok_and_equal(response: Any, expected: Any) -> None:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.get_json() == expected


# --------------------------------------------------------------------------- (a) the activation cache fails


def _disk_full(*_args: Any, **_kwargs: Any) -> Any:
    raise OSError(errno.ENOSPC, "No space left on device")


def test_cache_directory_full_or_unwritable_still_answers_correctly(
        make_settings: Callable[..., Settings], registry: ModelRegistry, reference: Callable[[bytes, str], Any],
        monkeypatch: pytest.MonkeyPatch) -> None:
    site = build_site(make_settings(), registry)
    cache_dir = site.analyzer.settings.cache_dir
    # Tests run as root, for whom chmod stops nothing: the disk-full writes below are what fails.
    cache_dir.chmod(0o500)
    try:
        backend = site.analyzer.activations.backend
        monkeypatch.setattr(backend, "set", _disk_full)
        monkeypatch.setattr(backend, "set_many", _disk_full)
        image = random_png(101)
        sha = site.upload(image)
        assert_ok_and_equal(site.analysis(sha), reference(image, QUERY))
        stats = site.analyzer.activations.stats
        assert stats["backend_errors"] >= 1 and stats["computes"] == 1
        assert list(cache_dir.iterdir()) == []  # nothing (and nothing partial) was written
        # Later requests keep working: another layer of the same pass, another export.
        other = "model=alexnet&layer=features.0&n=3"
        assert_ok_and_equal(site.analysis(sha, other), reference(image, other))
        export = site.client.get(f"/api/export/ranking.csv?image={sha}&{QUERY}")
        assert export.status_code == 200 and export.get_data(as_text=True).count("\n") == 6
    finally:
        cache_dir.chmod(0o700)


class BrokenBackend:
    """A cache backend whose every method raises, as a dead disk or server would."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Callable[..., Any]:
        def fail(*_args: Any, **_kwargs: Any) -> Any:
            self.calls.append(name)
            raise OSError(errno.EIO, f"Input/output error in {name}")

        return fail


def test_cache_backend_that_always_fails(make_settings: Callable[..., Settings], registry: ModelRegistry,
                                         reference: Callable[[bytes, str], Any]) -> None:
    backend = BrokenBackend()
    site = build_site(make_settings(), registry, backend=backend)
    for seed in (102, 103):
        image = random_png(seed)
        assert_ok_and_equal(site.analysis(site.upload(image)), reference(image, QUERY))
    assert backend.calls and site.analyzer.activations.stats["backend_errors"] >= 1
    sha = site.upload(random_png(102))
    regions = site.client.get(f"/api/export/regions.json?image={sha}&{QUERY}")
    assert regions.status_code == 200 and regions.get_json()["regions"] is not None
    assert site.client.get("/healthz").status_code == 200


def _valid_blob() -> bytes:
    return store.encode_maps(np.ones((3, 4, 4), dtype=np.float32))


CORRUPTIONS: dict[str, bytes | str | int] = {
    "empty": b"",
    "magic-only": store.codec.BLOB_MAGIC,
    "magic-and-2-bytes": store.codec.BLOB_MAGIC + b"\x10\x00",
    "header-cut": _valid_blob()[:12],
    "payload-cut": _valid_blob()[:-5],
    "header-without-shape": store.codec.BLOB_MAGIC + len(b'{"x": 1}').to_bytes(4, "little") + b'{"x": 1}' + b"\x00",
    "random-bytes": bytes(range(256)) * 4,
    "a-string": "ACT1 not bytes",
    "an-integer": 7,
}


class CorruptBackend:
    """Hands back the same damaged entry for every key (another worker's bad write,
    a flipped bit on disk); stores nothing."""

    def __init__(self) -> None:
        self.entry: bytes | str | int = b""
        self.reads = 0

    def get(self, key: str) -> Any:
        self.reads += 1
        return self.entry

    def set(self, key: str, value: Any, timeout: int | None = None) -> bool:
        return True

    def set_many(self, mapping: dict[str, Any], timeout: int | None = None) -> list[str]:
        return list(mapping)


@pytest.fixture(scope="module")
def corrupt_site(make_settings: Callable[..., Settings], registry: ModelRegistry) -> tuple[Site, CorruptBackend]:
    backend = CorruptBackend()
    return build_site(make_settings(), registry, backend=backend), backend


@pytest.mark.parametrize("name", list(CORRUPTIONS))
def test_damaged_cache_entries_are_recomputed(corrupt_site: tuple[Site, CorruptBackend], name: str,
                                              reference: Callable[[bytes, str], Any]) -> None:
    site, backend = corrupt_site
    backend.entry = CORRUPTIONS[name]
    image = random_png(200 + list(CORRUPTIONS).index(name))  # a new image: nothing local to fall back on
    reads = backend.reads
    assert_ok_and_equal(site.analysis(site.upload(image)), reference(image, QUERY))
    assert backend.reads > reads  # the damaged entry was really read, and discarded


# --------------------------------------------------------------------------- (b) Redis down or slow


@dataclass(eq=False)
class LocalRedis(RedisServer):
    """The suite's private redis-server, with DEBUG allowed from loopback (for DEBUG SLEEP)."""

    extra_args: tuple[str, ...] = ("--enable-debug-command", "local")

    def client(self, timeout: float = 2.0) -> Any:
        # The app's own fail-fast client: redis-py's default retries would turn a
        # 0.1 s probe of a sleeping server into a wait for it to wake up.
        return store.redis_client(self.url, timeout)

    def ping(self, timeout: float = 1.0) -> bool:
        client = self.client(timeout)
        try:
            return bool(client.ping())
        except Exception:  # down, starting, or busy
            return False
        finally:
            client.close()

    def act_keys(self) -> list[bytes]:
        client = self.client()
        try:
            return list(client.scan_iter(match="dashapp:act:*", count=1000))
        finally:
            client.close()


@pytest.fixture
def local_redis(tmp_path: Path) -> Iterator[LocalRedis]:
    server = LocalRedis(tmp_path / "redis").start()
    try:
        yield server
    finally:
        server.stop()


def show_thumbnail(site: Site, sha: str) -> None:
    """What a page does when it shows an image: after this the worker knows (has decoded) it."""
    caption = site.callback("image-thumb.src")
    thumb = caption({"image": sha}, None)["thumb"]
    assert isinstance(thumb, str) and thumb.startswith("data:image/")


def test_redis_slow_request_still_answers(local_redis: LocalRedis, make_settings: Callable[..., Settings],
                                          registry: ModelRegistry, reference: Callable[[bytes, str], Any]) -> None:
    site = build_site(make_settings(redis_url=local_redis.url), registry)
    image = random_png(301)
    sha = site.upload(image)
    show_thumbnail(site, sha)
    # The healthy answer first: it also builds the model, so the request below goes
    # straight to the (sleeping) cache instead of spending Redis's nap loading weights.
    expected = reference(image, QUERY)
    errors = site.analyzer.activations.stats["backend_errors"]

    sleeper = local_redis.client(timeout=30)
    outcome: dict[str, Any] = {}

    def sleep_redis() -> None:
        try:
            outcome["reply"] = sleeper.execute_command("DEBUG", "SLEEP", "2")
        except Exception as exc:  # reported by the assertion below
            outcome["error"] = exc

    thread = threading.Thread(target=sleep_redis, name="redis-debug-sleep", daemon=True)
    thread.start()
    try:
        # Redis is asleep once a quick PING from a fresh connection gets no answer.
        wait_for(lambda: "error" in outcome or not local_redis.ping(0.1), 5, "redis to fall asleep")
        assert "error" not in outcome, outcome
        response = site.analysis(sha)
    finally:
        thread.join(timeout=30)
        sleeper.close()
    assert outcome.get("reply") in (b"OK", "OK", True), outcome
    assert_ok_and_equal(response, expected)
    assert site.analyzer.activations.stats["backend_errors"] > errors
    # Awake again: the next request is normal.
    assert site.analysis(sha, "model=alexnet&layer=features.0&n=2").status_code == 200


def test_redis_down_degrades_then_recovers(local_redis: LocalRedis, make_settings: Callable[..., Settings],
                                           registry: ModelRegistry, reference: Callable[[bytes, str], Any],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    # Retry the backend soon after each error, so the restart below is noticed quickly.
    monkeypatch.setattr(store.activations, "BACKEND_RETRY_S", 0.05)
    site = build_site(make_settings(redis_url=local_redis.url), registry)
    first, known = random_png(311), random_png(312)
    sha_first, sha_known = site.upload(first), site.upload(known)
    assert_ok_and_equal(site.analysis(sha_first), reference(first, QUERY))
    assert any(sha_first.encode() in key for key in local_redis.act_keys())
    show_thumbnail(site, sha_known)  # known to this worker, never analysed

    local_redis.stop()
    stats = site.analyzer.activations.stats
    errors, computes = stats["backend_errors"], stats["computes"]
    assert_ok_and_equal(site.analysis(sha_known), reference(known, QUERY))
    assert stats["backend_errors"] > errors and stats["computes"] == computes + 1
    # Anything that needs the image store itself is a clear, retryable 503, not a 500.
    refused = site.client.post("/api/images", data=random_png(313), content_type="image/png")
    assert refused.status_code == 503
    harness.assert_clear_message(refused.get_json()["error"])
    assert site.client.get("/healthz").status_code == 200

    local_redis.start()  # same port, empty (nothing persisted)
    seeds = iter(range(320, 400))

    def written_again() -> bool:
        image = random_png(next(seeds))
        upload = site.client.post("/api/images", data=image, content_type="image/png")
        if upload.status_code != 201:
            return False
        sha = upload.get_json()["sha256"]
        assert site.analysis(sha).status_code == 200
        return any(sha.encode() in key for key in local_redis.act_keys())

    wait_for(written_again, 30, "activation entries written to the restarted redis", interval=0.05)


# --------------------------------------------------------------------------- (c) a model that fails to load


def test_model_whose_weights_cannot_be_had_is_a_clear_503(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))

    def offline(url: str, target: Path, report: Any) -> None:
        raise OSError(f"network is unreachable (test: no download of {url})")

    monkeypatch.setattr(weights_module, "_fetch", offline)
    expected = models_module.weights_file("resnet18")
    assert not expected.exists() and str(tmp_path) in str(expected)
    settings = Settings(data_dir=tmp_path / "data", weights="pretrained", device="cpu")
    site = build_site(settings, None)  # its own registry, with the "pretrained" policy

    models = site.client.get("/api/models")
    assert models.status_code == 503, models.get_data(as_text=True)[:300]
    message = harness.assert_clear_message(models.get_json()["error"], max_length=2000)
    assert expected.name in message and "DASHAPP_WEIGHTS" in message

    sha = site.upload(random_png(401))
    analysis = site.analysis(sha, "model=resnet18&layer=layer2.0.conv1")
    assert analysis.status_code == 503, analysis.get_data(as_text=True)[:300]
    assert expected.name in harness.assert_clear_message(analysis.get_json()["error"], max_length=2000)
    assert site.client.get("/healthz").status_code == 200

    # The pages: the state still resolves (layer tables need no weights), the model is
    # reported as waiting for its weights, the progress poll sees the failed download
    # and lets the page go on, and every page shows why.
    shown = harness.sync_state(site.app, "")
    view, ready, poll_disabled = shown["view-state.data"], shown["ready-state.data"], shown["load-poll.disabled"]
    assert view["model"] == "resnet18" and view["layer"] == "layer2.0.conv1"
    assert ready is no_update and poll_disabled is False

    loading = site.callback("load-progress.value")(1, view)
    assert loading["ready"] == view and loading["progress"] == 100
    assert loading["wrap"] == {"display": "none"} and loading["poll_off"] is True

    banner = site.callback("weights-banner.children")(view)
    assert expected.name in harness.alert_text(banner)
    overview = site.callback("overview-error.children")(view)
    assert expected.name in harness.alert_text(overview.pop("error"))
    assert all(part is no_update for part in overview.values())


# --------------------------------------------------------------------------- (d) a burst of identical requests


def test_same_uncached_analysis_from_8_threads_computes_once(make_settings: Callable[..., Settings],
                                                             registry: ModelRegistry,
                                                             reference: Callable[[bytes, str], Any]) -> None:
    site = build_site(make_settings(), registry)
    image = random_png(501)
    sha = site.upload(image)
    assert site.analyzer.activations.stats["computes"] == 0
    start = threading.Barrier(8)
    results: list[Any] = [None] * 8
    errors: list[BaseException] = []

    def ask(index: int) -> None:
        try:
            client = site.app.server.test_client()  # one client per thread
            start.wait(timeout=30)
            response = client.get(f"/api/analysis?image={sha}&{QUERY}")
            results[index] = (response.status_code, response.get_json())
        except BaseException as exc:  # re-raised below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=ask, args=(i,), daemon=True) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert all(status == 200 for status, _ in results), [status for status, _ in results]
    first = results[0][1]
    assert all(body == first for _, body in results)
    assert first == reference(image, QUERY)
    assert site.analyzer.activations.stats["computes"] == 1


# --------------------------------------------------------------------------- (e) a worker killed mid-write

IMAGE_WRITER = r"""
import os, sys
from pathlib import Path
from dashapp.intake import accept_bytes
from dashapp.store import FileImageStore

root, source, mode = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
accepted = accept_bytes(source.read_bytes())
image_store = FileImageStore(root, 40_000_000)
if mode == "at-fsync":
    # Killed after every byte went to the temporary file, before it was flushed and renamed.
    os.fsync = lambda fd: os._exit(9)
else:
    # Killed halfway through writing the temporary file.
    real_fdopen = os.fdopen

    class Dying:
        def __init__(self, handle):
            self.handle = handle
        def __enter__(self):
            return self
        def __exit__(self, *exc):
            return False
        def write(self, data):
            self.handle.write(data[: len(data) // 2])
            self.handle.flush()
            os._exit(9)

    os.fdopen = lambda fd, *args, **kwargs: Dying(real_fdopen(fd, *args, **kwargs))
image_store.put(accepted)
sys.exit(0)
"""


def run_python(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.run([sys.executable, "-c", script, *args], cwd=REPO_ROOT, env=env, capture_output=True,
                          text=True, timeout=120, check=False)


@pytest.mark.parametrize("mode", ["at-fsync", "mid-write"])
def test_worker_killed_while_writing_an_image_leaves_nothing(tmp_path: Path, mode: str) -> None:
    root = tmp_path / "images"
    source = tmp_path / "source.png"
    data = random_png(601, 160, 120)
    source.write_bytes(data)
    accepted = accept_bytes(data)
    sha = accepted.sha256

    result = run_python(IMAGE_WRITER, str(root), str(source), mode)
    assert result.returncode == 9, result.stderr[-2000:]
    leftovers = [p for p in root.rglob("*") if p.is_file()]
    assert leftovers, "the writer died before writing anything: the test would prove nothing"
    if mode == "mid-write":
        assert all(0 < p.stat().st_size < len(accepted.stored_bytes()) for p in leftovers)

    reader = FileImageStore(root, 40_000_000)
    assert not reader.has(sha) and reader.get(sha) is None
    assert list(root.rglob(f"{sha}.*")) == []
    # A later write of the same image works, and reads back whole.
    assert reader.put(accepted) == sha
    assert reader.has(sha)
    image = FileImageStore(root, 40_000_000).get(sha)
    assert image is not None and image.size == (160, 120)


CACHE_WRITER = r"""
import os, sys
from pathlib import Path
from dashapp.config.settings import Settings
from dashapp.store import ActivationStore, make_backend
from tests.support.synthetic import SyntheticSubject, synthetic_capture

data_dir, sha, die_after = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
real_replace = os.replace
replaced = 0

def dying_replace(src, dst):
    global replaced
    if replaced >= die_after:
        os._exit(9)  # killed between writing an entry's temporary file and renaming it
    replaced += 1
    real_replace(src, dst)

os.replace = dying_replace
activations = ActivationStore(make_backend(Settings(data_dir=data_dir)), compute=synthetic_capture)
activations.layer(SyntheticSubject(sha), "a")
sys.exit(0)
"""


@dataclass
class CountingCompute:
    calls: int = 0

    def __call__(self, model: Any, image: Any) -> Any:
        self.calls += 1
        return synthetic.synthetic_capture(model, image)


@pytest.mark.parametrize("die_after", [0, 2, 4, 99], ids=["first-entry", "mid-layers", "before-meta", "completes"])
def test_worker_killed_while_writing_the_cache_leaves_no_partial_entry(tmp_path: Path, die_after: int) -> None:
    data_dir = tmp_path / "data"
    sha = "ab" * 32
    result = run_python(CACHE_WRITER, str(data_dir), sha, str(die_after))
    completes = die_after > len(synthetic.SYNTHETIC_LAYERS)
    assert result.returncode == (0 if completes else 9), result.stderr[-2000:]
    settings = Settings(data_dir=data_dir)
    if completes:
        # Damage one finished entry on disk as a non-atomic writer or a bad disk would.
        probe = ActivationStore(make_backend(settings), compute=synthetic.synthetic_capture)
        entry = Path(probe.backend._get_filename(probe.key(synthetic.SyntheticSubject(sha), "b")))
        entry.write_bytes(entry.read_bytes()[: entry.stat().st_size // 2])

    compute = CountingCompute()
    reader = ActivationStore(make_backend(settings), compute=compute)
    subject = synthetic.SyntheticSubject(sha)
    expected = synthetic.synthetic_capture(subject.model, sha)
    for name, maps in expected.responses.items():
        got = reader.layer(subject, name)
        assert got.shape == maps.shape
        np.testing.assert_array_equal(got, maps.astype(np.float16).astype(np.float32))
    assert reader.meta(subject)["top"] == [p.as_dict() for p in expected.top]
    assert compute.calls == 1  # something was missing or damaged in every case: one recompute, no more
    assert reader.stats["backend_errors"] == 0
