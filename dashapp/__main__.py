"""``python -m dashapp``: the app on embedded defaults, no other service needed."""

from __future__ import annotations

import sys

from . import create_app
from .analysis.models import ModelError
from .settings import SettingsError, load_settings


def main() -> int:
    try:
        settings = load_settings()
        app = create_app(settings)
    except (SettingsError, ModelError) as exc:
        print(f"Configuration error: {exc}", file=sys.stderr)
        return 2
    print(f"CNN Activation Analyzer on http://{settings.host}:{settings.port}/ (data in {settings.data_dir})",
          flush=True)
    app.run(host=settings.host, port=settings.port, debug=False, threaded=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
