"""``DASHAPP_MODELS_FILE``: a team's own models, in TOML.

One ``[[model]]`` table per model::

    [[model]]
    name = "birds"                      # how the app names it (letters, digits, - and _)
    architecture = "resnet18"           # a torchvision classification model
    checkpoint = "checkpoints/birds.pt" # torch.save(model.state_dict(), path)
    classes = "checkpoints/birds.txt"   # class names, one per line, in output order
    input_size = 224                    # optional
    mean = [0.485, 0.456, 0.406]        # optional normalization, per RGB channel
    std = [0.229, 0.224, 0.225]         # optional

Relative paths are read from the models file's folder. Every mistake is a
``SettingsError`` naming the file, the model and the key.
"""

from __future__ import annotations

import math
import re
import tomllib
from pathlib import Path
from typing import Any

from dashapp.analysis.models.checkpoints import TeamModelSpec
from dashapp.config.errors import SettingsError

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")
KEYS = {"name", "architecture", "checkpoint", "classes", "input_size", "mean", "std"}


def _triple(where: str, key: str, value: Any, positive: bool) -> tuple[float, float, float]:
    ok = (isinstance(value, list) and len(value) == 3
          and all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in value))
    if not ok or (positive and min(value) <= 0):
        rule = "three positive numbers" if positive else "three numbers"
        raise SettingsError(f"{where}: {key} must be {rule} (one per RGB channel), got {value!r}")
    return (float(value[0]), float(value[1]), float(value[2]))


def _path(where: str, key: str, value: Any, folder: Path) -> Path:
    if not isinstance(value, str) or not value:
        raise SettingsError(f"{where}: {key} must be a file path")
    path = Path(value).expanduser()
    return path if path.is_absolute() else (folder / path).resolve()


def _spec(entry: Any, index: int, source: Path) -> TeamModelSpec:
    where = f"{source} model {index + 1}"
    if not isinstance(entry, dict):
        raise SettingsError(f"{where}: each [[model]] must be a table")
    if isinstance(entry.get("name"), str):
        where = f"{source} model {entry['name']!r}"
    unknown = sorted(set(entry) - KEYS)
    if unknown:
        raise SettingsError(f"{where}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(KEYS))}")
    for key in ("name", "architecture", "checkpoint", "classes"):
        if key not in entry:
            raise SettingsError(f"{where}: {key} is required")
    name, architecture = entry["name"], entry["architecture"]
    if not isinstance(name, str) or not NAME.match(name):
        raise SettingsError(f"{where}: name must be 1-40 letters, digits, - or _, got {name!r}")
    if not isinstance(architecture, str) or not architecture:
        raise SettingsError(f"{where}: architecture must be a torchvision model name such as resnet18")
    size = entry.get("input_size", 224)
    if not isinstance(size, int) or isinstance(size, bool) or not 32 <= size <= 1024:
        raise SettingsError(f"{where}: input_size must be a whole number of pixels from 32 to 1024, got {size!r}")
    defaults = TeamModelSpec("", "", Path(), Path())
    return TeamModelSpec(
        name=name,
        architecture=architecture.lower(),
        checkpoint=_path(where, "checkpoint", entry["checkpoint"], source.parent),
        classes=_path(where, "classes", entry["classes"], source.parent),
        input_size=size,
        mean=_triple(where, "mean", entry["mean"], False) if "mean" in entry else defaults.mean,
        std=_triple(where, "std", entry["std"], True) if "std" in entry else defaults.std,
    )


def read_models_file(path: Path) -> tuple[TeamModelSpec, ...]:
    """The team models ``path`` lists (checked for form here; the checkpoints
    themselves are checked when the models load, at start)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SettingsError(f"DASHAPP_MODELS_FILE={str(path)!r} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"DASHAPP_MODELS_FILE={str(path)!r} cannot be read: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"DASHAPP_MODELS_FILE={str(path)!r} is not valid TOML: {exc}") from exc
    entries = data.get("model")
    if not isinstance(entries, list) or not entries:
        raise SettingsError(f"{path}: list each model in a [[model]] table (name, architecture, checkpoint, classes)")
    specs = tuple(_spec(entry, i, path) for i, entry in enumerate(entries))
    names = [spec.name for spec in specs]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise SettingsError(f"{path}: model name(s) {', '.join(repeated)} appear more than once")
    return specs
