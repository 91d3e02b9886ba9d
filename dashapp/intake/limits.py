"""How much the app accepts: bytes, pixels, time; and how it words them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..i18n import _, integer, ngettext, number


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 10 * 1024 * 1024
    max_pixels: int = 40_000_000
    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    total_timeout: float = 20.0
    max_redirects: int = 5

    def __post_init__(self) -> None:
        # A zero or negative limit would silently refuse (or accept) everything.
        for name in ("max_bytes", "max_pixels", "connect_timeout", "read_timeout", "total_timeout"):
            if not getattr(self, name) > 0:
                raise ValueError(f"Limits.{name} must be positive, got {getattr(self, name)!r}")
        if self.max_redirects < 0:
            raise ValueError(f"Limits.max_redirects must be >= 0, got {self.max_redirects!r}")

    @classmethod
    def from_settings(cls, settings: Any) -> Limits:
        """Limits from a ``dashapp.config.settings.Settings`` (or anything with the same fields)."""
        return cls(
            max_bytes=int(settings.max_upload_bytes),
            max_pixels=int(settings.max_pixels),
            connect_timeout=float(settings.url_connect_timeout_s),
            read_timeout=float(settings.url_read_timeout_s),
            total_timeout=float(settings.url_total_timeout_s),
        )


def _one_decimal(value: float) -> str:
    """``value`` whole when it is, else with one decimal, in the reader's locale."""
    return number(value, 0 if value == int(value) else 1, grouping=False)


def short_number(value: float) -> str:
    """``value`` as ``{:g}`` writes it (0.15, 24, 2.5), with the reader's decimal mark."""
    text = f"{value:g}"
    if "e" in text or "inf" in text or "nan" in text:
        return text
    return number(value, len(text.partition(".")[2]), grouping=False)


def human_size(n: int) -> str:
    if n >= 1024 * 1024:
        return _("{size} MB").format(size=_one_decimal(n / (1024 * 1024)))
    if n >= 1024:
        return _("{size} KB").format(size=_one_decimal(n / 1024))
    return ngettext("{n} byte", "{n} bytes", n).format(n=integer(n))


def human_pixels(n: int) -> str:
    if n >= 1_000_000:
        return _("{n} megapixels").format(n=_one_decimal(n / 1_000_000))
    return ngettext("{n} pixel", "{n} pixels", n).format(n=integer(n))



# A default argument shared by every call: Limits is frozen.
DEFAULT_LIMITS = Limits()
