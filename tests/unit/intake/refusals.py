"""What every intake refusal must be: the right class, a 4xx, and a plain sentence."""

from __future__ import annotations

from dashapp.intake import IntakeError


def assert_refusal(exc: BaseException, expected: type[IntakeError]) -> None:
    assert type(exc) is expected, f"expected {expected.__name__}, got {type(exc).__name__}: {exc}"
    assert isinstance(exc, IntakeError)
    assert 400 <= exc.status < 500
    assert exc.code and exc.code == expected.code
    message = exc.message
    assert message == str(exc)
    # Plain text a person can read: one printable sentence-like line, no Python internals.
    assert message.strip() and message.isprintable()
    assert message[0].isupper() and message.rstrip().endswith(".")
    for internal in ("Traceback", "Errno", "PIL", "b'", "<class", "None", "Error"):
        assert internal not in message, message
