"""Which files a process maps a module's weights from (/proc/self/maps):
how the tests see that workers share weights (dashapp/analysis/models/shared_weights.py)."""

from __future__ import annotations

from pathlib import Path

from torch import nn


def mapped_files(module: nn.Module) -> set[str]:
    """The files this process maps that hold some of ``module``'s weights
    (read from /proc/self/maps)."""
    regions = []
    for line in Path("/proc/self/maps").read_text().splitlines():  # Linux: the CI's machines
        fields = line.split(maxsplit=5)
        if len(fields) == 6 and fields[5].startswith("/"):
            start, end = (int(part, 16) for part in fields[0].split("-"))
            regions.append((start, end, fields[5]))
    found = set()
    for tensor in module.state_dict().values():
        address = tensor.untyped_storage().data_ptr()
        found.update(name for start, end, name in regions if start <= address < end)
    return found
