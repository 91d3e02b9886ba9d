"""``python -m dashapp``: the app on embedded defaults, no other service needed.

``python -m dashapp fetch-weights`` downloads the enabled models' ImageNet
weights into the torch hub cache now (the operator's way; the server itself
only downloads at start-up, never because of a request).
"""

from __future__ import annotations

import logging
import sys

from dashapp.analysis.models.registry import ModelError, ModelRegistry
from dashapp.config.settings import Settings, SettingsError, load_settings

USAGE = "usage: python -m dashapp [fetch-weights]"


def fetch_weights(settings: Settings) -> int:
    if settings.weights == "random":
        print("DASHAPP_WEIGHTS=random: no weights to fetch.", flush=True)
        return 0
    registry = ModelRegistry(settings.models, settings.weights, settings.random_seed, settings.device,
                             settings.weights_mirror)
    last = [-1]

    def show(fraction: float, text: str) -> None:
        percent = int(fraction * 100)
        if percent >= last[0] + 5 or percent == 100:  # a line every 5 %, not every chunk
            last[0] = percent
            print(text, flush=True)

    try:
        for name, path in registry.fetch_weights(show).items():
            print(f"{name}: {path}", flush=True)
    except ModelError as exc:
        print(f"Could not fetch weights: {exc}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args not in ([], ["fetch-weights"]):
        print(USAGE, file=sys.stderr)
        return 2
    try:
        settings = load_settings()
        if args == ["fetch-weights"]:
            logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
            return fetch_weights(settings)
        from . import create_app

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
