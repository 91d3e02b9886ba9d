"""Every check an image goes through before the app touches it.

Uploads (``accept_bytes``) and web addresses (``accept_url``) end in the same
``AcceptedImage``: an RGB picture with EXIF orientation applied, plus a content
hash of its pixels. Anything the app cannot or should not process is refused
with an ``IntakeError`` (a ``UserError``) whose message is meant to be shown to the user as is
and whose ``status`` is the HTTP status the API answers with.

Only the standard library, Pillow, numpy and the interface language
(``dashapp.i18n``: messages are worded when raised, in the language of the
request or job at hand) are used, so the module can be reused by the web
layer, the workers and the tests alike.

Design choices worth knowing:

* The format is whatever Pillow sniffs from the bytes, restricted to the
  allowed plugins; file names and Content-Type headers are never trusted.
* Sizes are checked from the header before any pixel is decoded, so a tiny
  file that declares a gigantic canvas costs nothing.
* URLs with a user name or password (``http://user:pw@host/``) are refused:
  they are a classic way to disguise the real host and the app has no
  business forwarding credentials.
* The fetcher resolves the host once, checks every resolved address, and
  then connects to one of exactly those addresses, so a DNS answer that
  changes between the check and the connection (DNS rebinding) cannot reach
  an internal service. Proxies from the environment are never used.
"""

from .addresses import DEFAULT_POLICY, AddressPolicy
from .budget import DecodeBudget, DecodeBudgetSpent
from .decode import (
    ALLOWED_FORMATS,
    AcceptedImage,
    accept_bytes,
    decode_stored,
    decode_stored_png,
    image_sha256,
    is_sha256,
)
from .errors import (
    CorruptImage,
    EmptyInput,
    FetchFailed,
    IntakeError,
    TooLarge,
    TooManyPixels,
    UnsupportedFormat,
    UrlRefused,
)
from .fetch import accept_url, fetch_url
from .limits import Limits, human_size

__all__ = [
    "ALLOWED_FORMATS",
    "DEFAULT_POLICY",
    "AcceptedImage",
    "AddressPolicy",
    "CorruptImage",
    "DecodeBudget",
    "DecodeBudgetSpent",
    "EmptyInput",
    "FetchFailed",
    "IntakeError",
    "Limits",
    "TooLarge",
    "TooManyPixels",
    "UnsupportedFormat",
    "UrlRefused",
    "accept_bytes",
    "accept_url",
    "decode_stored",
    "decode_stored_png",
    "fetch_url",
    "human_size",
    "image_sha256",
    "is_sha256",
]
