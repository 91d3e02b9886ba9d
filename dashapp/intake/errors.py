"""Why an input is refused: one class per reason, each with its HTTP status."""

from __future__ import annotations

from ..errors import UserError


class IntakeError(UserError):
    """An input the app refuses; ``message`` is written for the person who sent it."""

    status: int = 400
    code: str = "invalid_image"


class EmptyInput(IntakeError):
    status = 400
    code = "empty"


class TooLarge(IntakeError):
    status = 413
    code = "too_large"


class TooManyPixels(IntakeError):
    status = 413
    code = "too_many_pixels"


class UnsupportedFormat(IntakeError):
    status = 415
    code = "unsupported_format"


class CorruptImage(IntakeError):
    status = 400
    code = "corrupt_image"


class UrlRefused(IntakeError):
    status = 400
    code = "url_refused"


class FetchFailed(IntakeError):
    status = 422
    code = "fetch_failed"

