"""Every setting of the app, read once from ``DASHAPP_*`` environment variables.

Settings are validated when they are read: a bad value stops start-up with a
message that names the variable, the value and what is expected, instead of
failing later inside a request.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

WEIGHT_POLICIES = ("auto", "pretrained", "random")
AUTH_MODES = ("none", "basic", "header")
DEFAULT_MODELS = ("resnet18", "alexnet")


class SettingsError(ValueError):
    """A DASHAPP_* variable holds a value the app cannot use."""


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8050
    data_dir: Path = field(default_factory=lambda: Path(".dashapp-data").resolve())
    redis_url: str | None = None
    weights: str = "auto"
    weights_mirror: str | None = None  # base URL holding torchvision's checkpoint files
    device: str | None = None  # None: CUDA when available, else CPU
    models: tuple[str, ...] = DEFAULT_MODELS
    max_upload_bytes: int = 10 * 1024 * 1024
    max_pixels: int = 40_000_000
    url_connect_timeout_s: float = 5.0
    url_read_timeout_s: float = 10.0
    url_total_timeout_s: float = 20.0
    cache_max_entries: int = 4000
    cache_ttl_s: int = 7 * 24 * 3600
    secret_key: str = ""
    auth: str = "none"
    auth_users: tuple[tuple[str, str], ...] = ()
    auth_header: str = "X-Forwarded-User"
    random_seed: int = 0
    debug: bool = False
    collections_dir: Path | None = None  # operator's folder: each sub-folder a collection
    collection_max_images: int = 5000
    collection_max_bytes: int = 1 << 30
    scan_batch: int = 32
    scan_shard: int = 256
    # Celery (Redis broker): a task not acknowledged this long after delivery
    # (its worker died) is delivered again.
    scan_visibility_timeout_s: int = 3600

    @property
    def images_dir(self) -> Path:
        return self.data_dir / "images"

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / "activations"

    @property
    def jobs_dir(self) -> Path:
        return self.data_dir / "jobs"

    def with_overrides(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]


SECRET_SETTINGS = ("DASHAPP_AUTH_USERS", "DASHAPP_REDIS_URL")


def _parse(env: Mapping[str, str], name: str, default: T, convert: Callable[[str], T], expected: str) -> T:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return convert(raw.strip())
    except (ValueError, TypeError) as exc:
        # Values that may hold passwords are never echoed into logs.
        shown = "(value hidden)" if name in SECRET_SETTINGS else repr(raw)
        raise SettingsError(f"{name}={shown} is not valid: expected {expected}") from exc


def _positive_int(raw: str) -> int:
    value = int(raw)
    if value <= 0:
        raise ValueError("must be positive")
    return value


def _positive_float(raw: str) -> float:
    value = float(raw)
    if not value > 0 or value == float("inf"):
        raise ValueError("must be positive and finite")
    return value


def _port(raw: str) -> int:
    value = int(raw)
    if not 0 < value < 65536:
        raise ValueError("out of range")
    return value


def _choice(options: tuple[str, ...]) -> Callable[[str], str]:
    def convert(raw: str) -> str:
        value = raw.lower()
        if value not in options:
            raise ValueError(value)
        return value

    return convert


def _bool(raw: str) -> bool:
    value = raw.lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError(raw)


def _device(raw: str) -> str:
    value = raw.lower()
    if value == "cpu" or value == "cuda" or (value.startswith("cuda:") and value[5:].isdigit()):
        return value
    raise ValueError(raw)


def _models(raw: str) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(part.strip().lower() for part in raw.split(",") if part.strip()))
    if not names:
        raise ValueError("empty list")
    for name in names:
        if not name.replace("_", "").isalnum():
            raise ValueError(name)
    return names


def _users(raw: str) -> tuple[tuple[str, str], ...]:
    pairs = []
    for item in raw.split(","):
        user, sep, password = item.strip().partition(":")
        if not sep or not user or not password:
            raise ValueError("each entry must be user:password")
        pairs.append((user, password))
    return tuple(pairs)


def _http_url(raw: str) -> str:
    if not raw.startswith(("http://", "https://")):
        raise ValueError(raw)
    return raw


def _redis_url(raw: str) -> str:
    if not raw.startswith(("redis://", "rediss://", "unix://")):
        raise ValueError(raw)
    return raw


def _folder(raw: str) -> Path:
    path = Path(raw).expanduser().resolve()
    if not path.is_dir():
        raise ValueError(raw)
    return path


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read and validate every DASHAPP_* variable; raise SettingsError on a bad one."""
    env = os.environ if env is None else env
    data_dir = Path(env.get("DASHAPP_DATA_DIR") or ".dashapp-data").expanduser().resolve()
    settings = Settings(
        host=env.get("DASHAPP_HOST") or "127.0.0.1",
        port=_parse(env, "DASHAPP_PORT", 8050, _port, "a port number 1-65535"),
        data_dir=data_dir,
        redis_url=_parse(env, "DASHAPP_REDIS_URL", None, _redis_url, "a redis:// or rediss:// URL"),
        weights=_parse(env, "DASHAPP_WEIGHTS", "auto", _choice(WEIGHT_POLICIES), "auto, pretrained or random"),
        weights_mirror=_parse(env, "DASHAPP_WEIGHTS_MIRROR", None, _http_url, "an http:// or https:// base URL"),
        device=_parse(env, "DASHAPP_DEVICE", None, _device, "cpu, cuda or cuda:N"),
        models=_parse(env, "DASHAPP_MODELS", DEFAULT_MODELS, _models, "comma-separated torchvision model names"),
        max_upload_bytes=_parse(env, "DASHAPP_MAX_UPLOAD_BYTES", 10 * 1024 * 1024, _positive_int, "a positive integer"),
        max_pixels=_parse(env, "DASHAPP_MAX_PIXELS", 40_000_000, _positive_int, "a positive integer"),
        url_connect_timeout_s=_parse(env, "DASHAPP_URL_CONNECT_TIMEOUT", 5.0, _positive_float, "seconds > 0"),
        url_read_timeout_s=_parse(env, "DASHAPP_URL_READ_TIMEOUT", 10.0, _positive_float, "seconds > 0"),
        url_total_timeout_s=_parse(env, "DASHAPP_URL_TOTAL_TIMEOUT", 20.0, _positive_float, "seconds > 0"),
        cache_max_entries=_parse(env, "DASHAPP_CACHE_MAX_ENTRIES", 4000, _positive_int, "a positive integer"),
        cache_ttl_s=_parse(env, "DASHAPP_CACHE_TTL", 7 * 24 * 3600, _positive_int, "seconds > 0"),
        secret_key=env.get("DASHAPP_SECRET_KEY") or "",
        auth=_parse(env, "DASHAPP_AUTH", "none", _choice(AUTH_MODES), "none, basic or header"),
        auth_users=_parse(env, "DASHAPP_AUTH_USERS", (), _users, "user:password[,user:password...]"),
        auth_header=env.get("DASHAPP_AUTH_HEADER") or "X-Forwarded-User",
        random_seed=_parse(env, "DASHAPP_RANDOM_SEED", 0, int, "an integer"),
        debug=_parse(env, "DASHAPP_DEBUG", False, _bool, "true or false"),
        collections_dir=_parse(env, "DASHAPP_COLLECTIONS_DIR", None, _folder, "an existing folder"),
        collection_max_images=_parse(env, "DASHAPP_COLLECTION_MAX_IMAGES", 5000, _positive_int, "a positive integer"),
        collection_max_bytes=_parse(env, "DASHAPP_COLLECTION_MAX_BYTES", 1 << 30, _positive_int, "a positive integer"),
        scan_batch=_parse(env, "DASHAPP_SCAN_BATCH", 32, _positive_int, "a positive integer"),
        scan_shard=_parse(env, "DASHAPP_SCAN_SHARD", 256, _positive_int, "a positive integer"),
        scan_visibility_timeout_s=_parse(env, "DASHAPP_SCAN_VISIBILITY_TIMEOUT", 3600, _positive_int, "seconds > 0"),
    )
    if settings.auth == "basic" and not settings.auth_users:
        raise SettingsError("DASHAPP_AUTH=basic needs DASHAPP_AUTH_USERS=user:password[,...]")
    return settings


def secret_key_for(settings: Settings) -> str:
    """The Flask secret: the configured one, or one kept in the data directory.

    Every worker of one host reads the same file, so anything signed by one
    worker verifies in the others.
    """
    if settings.secret_key:
        return settings.secret_key
    path = settings.data_dir / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    candidate = secrets.token_hex(32)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(candidate)
    try:
        os.link(tmp, path)  # atomic create-if-absent: the first worker wins
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return path.read_text().strip()
