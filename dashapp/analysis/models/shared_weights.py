"""Model weights the worker processes share instead of holding a copy each.

Under gunicorn every worker loads torch and the models itself (the app is
never loaded in the master: forking after torch has started its thread pools
can deadlock), and a tensor loaded the usual way is private memory: two
workers held two copies of every weight (AlexNet's alone are 233 MB). Here a
model's weights, once loaded however they are loaded, are written once to a
file in the data directory and mapped back (``torch.load(mmap=True)``,
assigned to the module): file pages, which the kernel's page cache holds
once for every process that maps them. The mapping is private
(copy-on-write), and inference never writes a weight.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from pathlib import Path

import torch
from torch import nn

log = logging.getLogger(__name__)


def _write_once(state: dict[str, torch.Tensor], path: Path) -> None:
    """``state`` saved at ``path`` unless a file is there already; the first
    writer wins (a hard link of a complete file), so every process maps one
    file, never a half-written one."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, scratch = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out:
            torch.save(state, out)
        with contextlib.suppress(FileExistsError):  # another process wrote the same weights first: map theirs
            os.link(scratch, path)
    finally:
        os.unlink(scratch)


def share(module: nn.Module, directory: Path, key: str) -> bool:
    """Swap ``module``'s weights for the same values mapped from
    ``directory/<key>.pt`` (written there if missing). ``key`` must name the
    values (the model and what its weights came from). False, with the
    module left as it was, when they cannot be shared: a file that does not
    hold exactly these values, or a directory that cannot be written."""
    path = directory / f"{key}.pt"
    state = module.state_dict()
    try:
        _write_once(state, path)
        mapped = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except (OSError, RuntimeError) as exc:
        log.warning("weights of %s are not shared between workers: %s", key, exc)
        return False
    if mapped.keys() != state.keys() or not all(torch.equal(mapped[name], state[name]) for name in state):
        log.warning("weights of %s are not shared between workers: %s holds other values", key, path)
        return False
    module.load_state_dict(mapped, assign=True)
    return True

