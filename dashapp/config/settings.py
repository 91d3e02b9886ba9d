"""Every setting of the app, read once from ``DASHAPP_*`` environment variables.

Settings are validated when they are read: a bad value stops start-up with a
message that names the variable, the value and what is expected, instead of
failing later inside a request.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import re
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar

from dashapp.config.errors import SettingsError  # also imported from here by its callers
from dashapp.config.models_file import read_models_file
from dashapp.config.private_files import ensure_data_dir, secret_key_for  # noqa: F401 (imported from here too)

T = TypeVar("T")
log = logging.getLogger(__name__)
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

WEIGHT_POLICIES = ("auto", "pretrained", "random")
AUTH_MODES = ("none", "basic", "header")
DEFAULT_MODELS = ("resnet18", "alexnet")
MIN_PROXY_SECRET = 16  # characters
WIDEST_PROXY_PREFIX = {4: 8, 6: 32}  # trusted networks wider than this need DASHAPP_AUTH_ALLOW_WEAK
ORIGIN_HOST = re.compile(r"(\*\.)?[a-z0-9.-]+(:[0-9]{1,5})?|\[[0-9a-f:.]+\](:[0-9]{1,5})?", re.IGNORECASE)


def _doc(text: str) -> dict[str, str]:
    """A field's description: docs/configuration.md is generated from these (scripts/docs.py)."""
    return {"doc": text}


@dataclass(frozen=True)
class Settings:
    """Each field is read from DASHAPP_<NAME> (a unit suffix such as ``_s`` left off)."""

    host: str = field(default="127.0.0.1", metadata=_doc("address of `python -m dashapp`"))
    port: int = field(default=8050, metadata=_doc("port of `python -m dashapp`"))
    data_dir: Path = field(default_factory=lambda: Path(".dashapp-data").resolve(), metadata=_doc(
        "images, activation cache, background jobs, generated secret"))
    weights_dir: Path | None = field(default=None, metadata=_doc(
        "the model weight files every worker process maps, written once per model and weights "
        "(default: `weights` in the data directory); apps on one host may share one, and it belongs on "
        "local disk where the data directory is network storage"))
    redis_url: str | None = field(default=None, metadata=_doc(
        "`redis://host:6379/0`: images and activations in Redis (several hosts), and collection scans on Celery "
        "with it as broker"))
    weights: str = field(default="auto", metadata=_doc(
        "`auto` (ImageNet, else seeded random with the reason shown), `pretrained` (fail with the expected file "
        "and folder), `random`"))
    weights_mirror: str | None = field(default=None, metadata=_doc(
        "base URL of your own copy of torchvision's checkpoint files (same file names), for hosts without "
        "internet; `https://user:password@host/path` sends the credentials as HTTP Basic"))
    device: str | None = field(default=None, metadata=_doc(
        "`cpu`, `cuda`, `cuda:N`; unset: CUDA if available, else CPU"))
    models: tuple[str, ...] = field(default=DEFAULT_MODELS, metadata=_doc(
        "any torchvision classification models, e.g. "
        "`resnet18,alexnet,vgg16,mobilenet_v3_large,efficientnet_b0,resnet50`"))
    models_file: Path | None = field(default=None, metadata=_doc(
        "TOML file listing the team's own models (docs/models.md); they are added to the stock ones"))
    max_upload_bytes: int = field(default=10 * 1024 * 1024, metadata=_doc("upload and URL download limit in bytes"))
    max_pixels: int = field(default=40_000_000, metadata=_doc("pixel limit, checked before decoding"))
    url_connect_timeout_s: float = field(default=5.0, metadata=_doc("image URL fetching: time to connect"))
    url_read_timeout_s: float = field(default=10.0, metadata=_doc("image URL fetching: time between two reads"))
    url_total_timeout_s: float = field(default=20.0, metadata=_doc("image URL fetching: time for the whole download"))
    cache_max_entries: int = field(default=4000, metadata=_doc(
        "activation cache bound (filesystem; about 21 entries per image and model)"))
    image_store_max_bytes: int = field(default=1 << 30, metadata=_doc(
        "image store bound (files or Redis), in allocated blocks (Redis: `MEMORY USAGE`): past it the least "
        "recently used uploads are evicted (their links then ask for the image again); the bundled examples "
        "never are, nor a stored collection's images (they count in `DASHAPP_COLLECTION_STORE_MAX_BYTES`)"))
    cache_ttl_s: int = field(default=7 * 24 * 3600, metadata=_doc("activation cache expiry"))
    secret_key: str = field(default="", metadata=_doc(
        "Flask secret, the same for every worker; unset: generated once into the data directory"))
    auth: str = field(default="none", metadata=_doc(
        "`none`, `basic` (HTTP Basic) or `header` (trust a reverse proxy's user header)"))
    auth_users: tuple[tuple[str, str], ...] = field(default=(), metadata=_doc(
        "`user:password[,user:password]` for `basic`"))
    auth_header: str = field(default="X-Forwarded-User", metadata=_doc("header set by the proxy in `header` mode"))
    auth_proxy_secret: str = field(default="", metadata=_doc(
        "`header` mode: a secret the proxy sends with every request; a request must carry it or come from "
        "`DASHAPP_AUTH_TRUSTED_PROXIES` (both, when both are set), and one of the two is required"))
    auth_proxy_secret_header: str = field(default="X-Proxy-Secret", metadata=_doc(
        "the header carrying `DASHAPP_AUTH_PROXY_SECRET`"))
    auth_trusted_proxies: tuple[IPNetwork, ...] = field(default=(), metadata=_doc(
        "`header` mode: the proxy's addresses, `10.0.0.5,10.1.0.0/16` (IPs or networks)"))
    auth_allow_weak: bool = field(default=False, metadata=_doc(
        "accept a `DASHAPP_AUTH_PROXY_SECRET` under 16 characters or `DASHAPP_AUTH_TRUSTED_PROXIES` wider than a "
        "/8 (IPv6 /32); without it either stops the start"))
    public_url: str | None = field(default=None, metadata=_doc(
        "the app's public origin, `https://analyzer.example.org`: the cross-site check compares a request's "
        "`Origin` with it rather than with the `Host` header the request names"))
    frame_ancestors: tuple[str, ...] = field(default=(), metadata=_doc(
        "origins whose pages may show the app in a frame, `https://wiki.example.org,https://*.example.org`; "
        "unset: no page may (`X-Frame-Options: DENY`)"))
    healthz_details: bool = field(default=False, metadata=_doc(
        "`/healthz` also gives model and cache counters without authentication (unset: the status word only, "
        "and the counters to authenticated requests when `DASHAPP_AUTH` is on)"))
    random_seed: int = field(default=0, metadata=_doc("seed of the random weights (the same in every worker)"))
    debug: bool = field(default=False, metadata=_doc("debug logging, and `Server-Timing` headers on every response"))
    collections_dir: Path | None = field(default=None, metadata=_doc(
        "a server folder whose sub-folders are collections (one level below: class-label folders); symlinks "
        "leading out of it are not followed"))
    collection_max_images: int = field(default=5000, metadata=_doc(
        "entries read per collection (images or not); the rest are listed as refused"))
    collection_max_bytes: int = field(default=1 << 30, metadata=_doc("bytes read or inflated per collection"))
    collection_store_max_bytes: int = field(default=1 << 31, metadata=_doc(
        "bound of the stored collections (files or Redis): their manifests, scan results, shards, job records "
        "and the images they hold, counted in allocated blocks (Redis: `MEMORY USAGE`); past it the least "
        "recently used collections are evicted whole, and asking for one says so (410)"))
    collection_user_max_bytes: int = field(default=1 << 30, metadata=_doc(
        "with `DASHAPP_AUTH` on: image bytes one user's uploaded collections may hold in all (more: 413)"))
    scans_per_user: int = field(default=1, metadata=_doc(
        "with `DASHAPP_AUTH` on: scans one user may have queued or running at once (more: 429, try again)"))
    scan_batch: int = field(default=32, metadata=_doc("images per forward pass of a scan"))
    scan_shard: int = field(default=256, metadata=_doc("images per shard (one Celery task)"))
    scan_visibility_timeout_s: int = field(default=3600, metadata=_doc(
        "Celery on Redis: a shard not acknowledged this long after delivery (its worker host died) is delivered "
        "again; keep it above a shard's duration"))
    scan_time_limit_s: int = field(default=1800, metadata=_doc(
        "a shard running longer is stopped and its scan fails with a message saying so (the hard limit, which "
        "kills a pool process stuck where Python cannot interrupt it, follows up to 30 s later)"))
    featurevis_max_steps: int = field(default=1024, metadata=_doc(
        "most optimization steps a request may ask for; a job runs min(256, this) unless it asks"))
    featurevis_max_size: int = field(default=320, metadata=_doc(
        "largest visualization side in pixels; a job uses min(160, this) unless it asks"))
    featurevis_queue: int = field(default=4, metadata=_doc(
        "feature visualization jobs one worker accepts at once through the API (one runs, the rest wait; "
        "more: 429)"))
    featurevis_per_user: int = field(default=1, metadata=_doc(
        "with `DASHAPP_AUTH` on: of those, how many one user may have (more: 429, try again)"))
    compute_threads: int = field(default=1, metadata=_doc(
        "threads a gunicorn worker's forward passes and array arithmetic (torch, OpenBLAS) use, 1-64: the worker "
        "already answers many requests at once, and more threads per operation spun against each other "
        "(docs/performance.md)"))
    fills_at_once: int = field(default=2, metadata=_doc(
        "new images (forward passes) one worker computes at once, 1-16; the others wait their turn holding "
        "neither CPU nor memory, while answers from the cache go straight through"))

    @property
    def images_dir(self) -> Path:
        return self.data_dir / "images"

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / "activations"

    @property
    def jobs_dir(self) -> Path:
        return self.data_dir / "jobs"

    @property
    def shared_weights_dir(self) -> Path:
        """The model weight files every worker maps (analysis/models/shared_weights.py)."""
        return self.weights_dir or self.data_dir / "weights"

    def with_overrides(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]


SECRET_SETTINGS = ("DASHAPP_AUTH_USERS", "DASHAPP_REDIS_URL", "DASHAPP_WEIGHTS_MIRROR")


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


def _bounded(low: int, high: int) -> Callable[[str], int]:
    def convert(raw: str) -> int:
        value = int(raw)
        if not low <= value <= high:
            raise ValueError("out of range")
        return value

    return convert


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


def _networks(raw: str) -> tuple[IPNetwork, ...]:
    networks = tuple(ipaddress.ip_network(part.strip(), strict=False) for part in raw.split(",") if part.strip())
    if not networks:
        raise ValueError("empty list")
    return networks


def _origin(raw: str) -> str:
    """``scheme://host[:port]`` and nothing else (it is written into headers)."""
    parts = urllib.parse.urlsplit(raw.rstrip("/"))
    if parts.scheme not in ("http", "https") or not ORIGIN_HOST.fullmatch(parts.netloc) or parts.path \
            or parts.query or parts.fragment:
        raise ValueError(raw)
    return f"{parts.scheme}://{parts.netloc.lower()}"


def _http_url(raw: str) -> str:
    if not raw.startswith(("http://", "https://")):
        raise ValueError(raw)
    return raw


def _redis_url(raw: str) -> str:
    if not raw.startswith(("redis://", "rediss://", "unix://")):
        raise ValueError(raw)
    return raw


def _path(raw: str) -> Path:
    return Path(raw).expanduser().resolve()


def _folder(raw: str) -> Path:
    path = _path(raw)
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
        weights_dir=_parse(env, "DASHAPP_WEIGHTS_DIR", None, _path, "a folder's path"),
        redis_url=_parse(env, "DASHAPP_REDIS_URL", None, _redis_url, "a redis:// or rediss:// URL"),
        weights=_parse(env, "DASHAPP_WEIGHTS", "auto", _choice(WEIGHT_POLICIES), "auto, pretrained or random"),
        weights_mirror=_parse(env, "DASHAPP_WEIGHTS_MIRROR", None, _http_url, "an http:// or https:// base URL"),
        device=_parse(env, "DASHAPP_DEVICE", None, _device, "cpu, cuda or cuda:N"),
        models=_parse(env, "DASHAPP_MODELS", DEFAULT_MODELS, _models, "comma-separated torchvision model names"),
        models_file=_parse(env, "DASHAPP_MODELS_FILE", None, _path, "the path of a TOML file"),
        max_upload_bytes=_parse(env, "DASHAPP_MAX_UPLOAD_BYTES", 10 * 1024 * 1024, _positive_int, "a positive integer"),
        max_pixels=_parse(env, "DASHAPP_MAX_PIXELS", 40_000_000, _positive_int, "a positive integer"),
        url_connect_timeout_s=_parse(env, "DASHAPP_URL_CONNECT_TIMEOUT", 5.0, _positive_float, "seconds > 0"),
        url_read_timeout_s=_parse(env, "DASHAPP_URL_READ_TIMEOUT", 10.0, _positive_float, "seconds > 0"),
        url_total_timeout_s=_parse(env, "DASHAPP_URL_TOTAL_TIMEOUT", 20.0, _positive_float, "seconds > 0"),
        cache_max_entries=_parse(env, "DASHAPP_CACHE_MAX_ENTRIES", 4000, _positive_int, "a positive integer"),
        image_store_max_bytes=_parse(env, "DASHAPP_IMAGE_STORE_MAX_BYTES", 1 << 30, _positive_int,
                                     "a positive number of bytes"),
        cache_ttl_s=_parse(env, "DASHAPP_CACHE_TTL", 7 * 24 * 3600, _positive_int, "seconds > 0"),
        secret_key=env.get("DASHAPP_SECRET_KEY") or "",
        auth=_parse(env, "DASHAPP_AUTH", "none", _choice(AUTH_MODES), "none, basic or header"),
        auth_users=_parse(env, "DASHAPP_AUTH_USERS", (), _users, "user:password[,user:password...]"),
        auth_header=env.get("DASHAPP_AUTH_HEADER") or "X-Forwarded-User",
        auth_proxy_secret=env.get("DASHAPP_AUTH_PROXY_SECRET") or "",
        auth_proxy_secret_header=env.get("DASHAPP_AUTH_PROXY_SECRET_HEADER") or "X-Proxy-Secret",
        auth_trusted_proxies=_parse(env, "DASHAPP_AUTH_TRUSTED_PROXIES", (), _networks,
                                    "comma-separated IP addresses or networks, e.g. 10.0.0.5,10.1.0.0/16"),
        auth_allow_weak=_parse(env, "DASHAPP_AUTH_ALLOW_WEAK", False, _bool, "true or false"),
        public_url=_parse(env, "DASHAPP_PUBLIC_URL", None, _origin, "an origin, e.g. https://analyzer.example.org"),
        frame_ancestors=_parse(env, "DASHAPP_FRAME_ANCESTORS", (), lambda raw: tuple(
            _origin(part.strip()) for part in raw.split(",") if part.strip()), "comma-separated origins"),
        healthz_details=_parse(env, "DASHAPP_HEALTHZ_DETAILS", False, _bool, "true or false"),
        random_seed=_parse(env, "DASHAPP_RANDOM_SEED", 0, int, "an integer"),
        debug=_parse(env, "DASHAPP_DEBUG", False, _bool, "true or false"),
        collections_dir=_parse(env, "DASHAPP_COLLECTIONS_DIR", None, _folder, "an existing folder"),
        collection_max_images=_parse(env, "DASHAPP_COLLECTION_MAX_IMAGES", 5000, _positive_int, "a positive integer"),
        collection_max_bytes=_parse(env, "DASHAPP_COLLECTION_MAX_BYTES", 1 << 30, _positive_int, "a positive integer"),
        collection_store_max_bytes=_parse(env, "DASHAPP_COLLECTION_STORE_MAX_BYTES", 1 << 31, _positive_int,
                                          "a positive integer"),
        collection_user_max_bytes=_parse(env, "DASHAPP_COLLECTION_USER_MAX_BYTES", 1 << 30, _positive_int,
                                         "a positive integer"),
        scans_per_user=_parse(env, "DASHAPP_SCANS_PER_USER", 1, _bounded(1, 64), "an integer 1-64"),
        scan_batch=_parse(env, "DASHAPP_SCAN_BATCH", 32, _positive_int, "a positive integer"),
        scan_shard=_parse(env, "DASHAPP_SCAN_SHARD", 256, _positive_int, "a positive integer"),
        scan_visibility_timeout_s=_parse(env, "DASHAPP_SCAN_VISIBILITY_TIMEOUT", 3600, _positive_int, "seconds > 0"),
        scan_time_limit_s=_parse(env, "DASHAPP_SCAN_TIME_LIMIT", 1800, _positive_int, "seconds > 0"),
        featurevis_max_steps=_parse(env, "DASHAPP_FEATUREVIS_MAX_STEPS", 1024, _bounded(1, 4096), "an integer 1-4096"),
        featurevis_max_size=_parse(env, "DASHAPP_FEATUREVIS_MAX_SIZE", 320, _bounded(32, 512), "pixels 32-512"),
        featurevis_queue=_parse(env, "DASHAPP_FEATUREVIS_QUEUE", 4, _bounded(1, 64), "an integer 1-64"),
        featurevis_per_user=_parse(env, "DASHAPP_FEATUREVIS_PER_USER", 1, _bounded(1, 64), "an integer 1-64"),
        compute_threads=_parse(env, "DASHAPP_COMPUTE_THREADS", 1, _bounded(1, 64), "an integer 1-64"),
        fills_at_once=_parse(env, "DASHAPP_FILLS_AT_ONCE", 2, _bounded(1, 16), "an integer 1-16"),
    )
    if settings.models_file is not None:
        read_models_file(settings.models_file)  # a malformed file stops the start, naming the key
    check_auth(settings)
    return settings


def check_auth(settings: Settings) -> None:
    """Refuse an access-control setup that would let anyone in."""
    if settings.auth == "basic" and not settings.auth_users:
        raise SettingsError("DASHAPP_AUTH=basic needs DASHAPP_AUTH_USERS=user:password[,...]")
    if settings.auth == "header" and not (settings.auth_proxy_secret or settings.auth_trusted_proxies):
        # Without either, anyone who reaches the app could send the user header.
        raise SettingsError(
            "DASHAPP_AUTH=header needs DASHAPP_AUTH_PROXY_SECRET (a secret your proxy sends in the "
            f"{settings.auth_proxy_secret_header} header) or DASHAPP_AUTH_TRUSTED_PROXIES (the proxy's "
            "addresses, e.g. 10.0.0.5,10.1.0.0/16), so that only the proxy can vouch for a user"
        )
    if settings.auth_allow_weak:
        return
    if 0 < len(settings.auth_proxy_secret) < MIN_PROXY_SECRET:
        raise SettingsError(f"DASHAPP_AUTH_PROXY_SECRET is shorter than {MIN_PROXY_SECRET} characters (guessable): "
                            "use a long random one, or set DASHAPP_AUTH_ALLOW_WEAK=true")
    for network in settings.auth_trusted_proxies:
        if network.prefixlen < WIDEST_PROXY_PREFIX[network.version]:
            raise SettingsError(f"DASHAPP_AUTH_TRUSTED_PROXIES includes {network}, wider than a "
                                f"/{WIDEST_PROXY_PREFIX[network.version]}: name the proxy's own addresses, or set "
                                "DASHAPP_AUTH_ALLOW_WEAK=true")
