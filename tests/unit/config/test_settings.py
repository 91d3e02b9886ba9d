"""dashapp/config/settings.py: the feature visualization caps; the data directory and the secret key file are this
user's only (issue 11, finding 6): 0700 and 0600 whatever the umask, the key
created once with O_EXCL even when workers start together."""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from dashapp import create_app
from dashapp.config import settings as settings_module
from dashapp.config.settings import Settings, SettingsError, load_settings, secret_key_for


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """umask 000: whatever the app does not set explicitly comes out world-writable."""
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def test_app_data_dir_and_secret_key_are_private(tmp_path: Path, open_umask: None,
                                                  make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(data_dir=tmp_path / "deep" / "data")
    app = create_app(settings)
    assert mode(settings.data_dir) == 0o700
    key_file = settings.data_dir / "secret_key"
    assert mode(key_file) == 0o600
    assert app.server.config["SECRET_KEY"] == key_file.read_text().strip()
    assert len(key_file.read_text().strip()) == 64


def test_workers_starting_together_share_one_key(tmp_path: Path, open_umask: None) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    start = threading.Barrier(8)
    keys: list[str] = []

    def worker() -> None:
        start.wait(10)
        keys.append(secret_key_for(settings))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(keys) == 8 and len(set(keys)) == 1 and len(keys[0]) == 64
    assert mode(settings.data_dir / "secret_key") == 0o600
    assert sorted(p.name for p in settings.data_dir.iterdir()) == ["secret_key"]  # no temporary files left


def test_an_existing_key_is_kept_and_made_private(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    settings.data_dir.mkdir()
    settings.data_dir.chmod(0o755)
    key_file = settings.data_dir / "secret_key"
    key_file.write_text("an-older-key\n")
    key_file.chmod(0o644)  # as an older version left them
    assert secret_key_for(settings) == "an-older-key"
    assert mode(key_file) == 0o600
    assert mode(settings.data_dir) == 0o700  # it holds our key: it is ours to close


def test_a_configured_key_writes_nothing(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", secret_key="from-the-environment")
    assert secret_key_for(settings) == "from-the-environment"
    assert not (settings.data_dir / "secret_key").exists()


def test_an_existing_open_data_dir_is_reported_not_changed(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o755)  # someone's own choice: the app says so but does not change it
    settings_module.ensure_data_dir(Settings(data_dir=shared))
    assert mode(shared) == 0o755
    assert "0700" in caplog.text and str(shared) in caplog.text


def test_featurevis_caps_default_and_read() -> None:
    defaults = load_settings({})
    assert (defaults.featurevis_max_steps, defaults.featurevis_max_size, defaults.featurevis_queue) == (1024, 320, 4)
    chosen = load_settings({"DASHAPP_FEATUREVIS_MAX_STEPS": "8", "DASHAPP_FEATUREVIS_MAX_SIZE": "64",
                            "DASHAPP_FEATUREVIS_QUEUE": "2"})
    assert (chosen.featurevis_max_steps, chosen.featurevis_max_size, chosen.featurevis_queue) == (8, 64, 2)


@pytest.mark.parametrize(
    ("name", "value"),
    [("DASHAPP_FEATUREVIS_MAX_STEPS", "0"), ("DASHAPP_FEATUREVIS_MAX_STEPS", "1000000"),
     ("DASHAPP_FEATUREVIS_MAX_SIZE", "16"), ("DASHAPP_FEATUREVIS_MAX_SIZE", "big"), ("DASHAPP_FEATUREVIS_QUEUE", "-1")],
)
def test_featurevis_caps_out_of_range_stop_the_start(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        load_settings({name: value})


@pytest.mark.parametrize("open_mode", [0o775, 0o777, 0o757])
def test_a_data_dir_others_may_write_stops_the_start(tmp_path: Path, open_mode: int) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(open_mode)  # anyone in the group (or anyone) could plant a pickle in the job store
    with pytest.raises(SettingsError, match="written by other users"):
        settings_module.ensure_data_dir(Settings(data_dir=shared))
    assert mode(shared) == open_mode


def test_the_job_store_is_this_users_only(tmp_path: Path, open_umask: None) -> None:
    from dashapp import background_manager

    settings = Settings(data_dir=tmp_path / "data")
    settings_module.ensure_data_dir(settings)
    settings.data_dir.chmod(0o755)  # an open but not writable data directory is only reported
    settings.jobs_dir.mkdir(mode=0o755)
    background_manager(settings)
    assert mode(settings.jobs_dir) == 0o700
    stores = list(settings.jobs_dir.glob("cache.db*"))
    assert stores and all(mode(path) == 0o600 for path in stores)


@pytest.mark.parametrize(("env", "message"), [
    ({"DASHAPP_AUTH_PROXY_SECRET": "x"}, "shorter than 16"),
    ({"DASHAPP_AUTH_PROXY_SECRET": "fifteen-chars!!"}, "shorter than 16"),
    ({"DASHAPP_AUTH_TRUSTED_PROXIES": "0.0.0.0/0"}, "wider than a /8"),
    ({"DASHAPP_AUTH_TRUSTED_PROXIES": "10.0.0.5,10.0.0.0/7"}, "wider than a /8"),
    ({"DASHAPP_AUTH_TRUSTED_PROXIES": "::/0"}, "wider than a /32"),
    ({"DASHAPP_AUTH_TRUSTED_PROXIES": "2001:db8::/31"}, "wider than a /32"),
])
def test_weak_proxy_trust_is_refused_without_the_override(env: dict[str, str], message: str) -> None:
    env = {"DASHAPP_AUTH": "header", **env}
    with pytest.raises(SettingsError, match=message):
        load_settings(env)
    assert load_settings({**env, "DASHAPP_AUTH_ALLOW_WEAK": "true"}).auth_allow_weak


def test_reasonable_proxy_trust_is_accepted() -> None:
    settings = load_settings({"DASHAPP_AUTH": "header", "DASHAPP_AUTH_PROXY_SECRET": "s" * 16,
                              "DASHAPP_AUTH_TRUSTED_PROXIES": "10.0.0.0/8,2001:db8::/32"})
    assert len(settings.auth_trusted_proxies) == 2


def test_origins_are_read_strictly() -> None:
    settings = load_settings({"DASHAPP_PUBLIC_URL": "HTTPS://Analyzer.Example.org/",
                              "DASHAPP_FRAME_ANCESTORS": "https://wiki.example.org, https://*.example.org:8443"})
    assert settings.public_url == "https://analyzer.example.org"
    assert settings.frame_ancestors == ("https://wiki.example.org", "https://*.example.org:8443")
    for bad in ("analyzer.example.org", "https://a.example.org/path", "https://a b", "https://a;script-src *",
                "javascript://x"):
        with pytest.raises(SettingsError):
            load_settings({"DASHAPP_FRAME_ANCESTORS": bad})
