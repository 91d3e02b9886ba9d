"""Images in: uploads, web addresses and the bundled examples, kept in the
durable image store and looked up by their SHA-256."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

from PIL import Image

from dashapp.config.settings import Settings

from .. import intake
from ..errors import UserError
from ..i18n import _
from ..store import FileImageStore, ImageStore, RedisImageStore, StoreUnavailable

log = logging.getLogger(__name__)

EXAMPLES_DIR = Path(__file__).resolve().parent.parent.parent / "assets" / "examples"
EXAMPLE_FILES = ("chelsea.png", "coffee.png", "astronaut.png", "rocket.jpg")


class ImageLibrary:
    def __init__(self, settings: Settings, images: ImageStore | None = None) -> None:
        self.limits = intake.Limits.from_settings(settings)
        if images is None:
            images = (
                RedisImageStore(settings.redis_url, settings.max_pixels, settings.image_store_max_bytes)
                if settings.redis_url
                else FileImageStore(settings.images_dir, settings.max_pixels, settings.image_store_max_bytes)
            )
        self.store = images
        self._examples: dict[str, str] | None = None
        self._example_images: dict[str, Image.Image] = {}

    def ingest_bytes(self, data: bytes) -> intake.AcceptedImage:
        accepted = intake.accept_bytes(data, self.limits)
        self.store.put(accepted)
        return accepted

    def ingest_url(self, url: str, policy: intake.AddressPolicy = intake.DEFAULT_POLICY) -> intake.AcceptedImage:
        accepted = intake.accept_url(url, self.limits, policy)
        self.store.put(accepted)
        return accepted

    def image(self, sha: str) -> Image.Image:
        if not intake.is_sha256(sha):
            raise UserError(_("The image id must be a 64-character SHA-256 in hex."), 400)
        example = self._example_images.get(sha)
        if example is not None:  # bundled: answered even while the store is down
            return example
        image = self.store.get(sha)  # StoreUnavailable is a UserError (503)
        if image is None:
            raise UserError(_("No image with this id is stored here; upload it again."), 404)
        return image

    def has(self, sha: str) -> bool:
        return sha in self._example_images or self.store.has(sha)

    def examples(self) -> dict[str, str]:
        """Bundled example file name -> image id (stored on first use)."""
        if self._examples is None:
            found: dict[str, str] = {}
            for name in EXAMPLE_FILES:
                path = EXAMPLES_DIR / name
                if path.is_file():
                    data = path.read_bytes()
                    # Bundled files are ours: the upload size limit is for users.
                    limits = dataclasses.replace(self.limits, max_bytes=max(len(data), self.limits.max_bytes))
                    accepted = intake.accept_bytes(data, limits)
                    found[name] = accepted.sha256
                    self._example_images[accepted.sha256] = accepted.image
                    self.store.pin(accepted.sha256)  # examples are never evicted
                    try:
                        self.store.put(accepted)
                    except StoreUnavailable:
                        # A worker must boot while Redis is down; examples are
                        # served from memory and stored by a later worker.
                        log.warning("could not store example %s now; serving it from memory", name)
            self._examples = found
        return self._examples

    def example_name(self, sha: str) -> str | None:
        return next((name for name, s in self.examples().items() if s == sha), None)

    def default_image(self) -> str:
        examples = self.examples()
        return examples.get("chelsea.png") or next(iter(examples.values()))
