"""The heap trimmer gives freed heap memory back to the system, once per process."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from dashapp.web import heap_trim

REPO = Path(__file__).resolve().parents[3]

# Run in a fresh process: the trimmer starts once per process, at its first interval.
FRAGMENTED_HEAP = r"""
import os, time
from dashapp.web import heap_trim

def resident() -> int:
    return int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

start = resident()
# 200 MiB in 64 KiB blocks (under glibc's mmap threshold: they come from the
# heap), every tenth kept, so what is freed lies in holes glibc keeps.
blocks = [bytearray(b"x" * (64 * 1024)) for _ in range(3200)]
keep = blocks[::10]
del blocks
held = resident()
assert held - start > 150 * 2**20, (start, held)  # glibc kept the freed blocks
assert heap_trim.start(0.05)
deadline = time.monotonic() + 30
while resident() > held - 120 * 2**20 and time.monotonic() < deadline:
    time.sleep(0.05)  # polling for the condition below
print(held - resident(), len(keep))
"""


@pytest.mark.slow  # a fresh interpreter that imports the app and fills 200 MiB of heap: seconds
def test_freed_heap_memory_goes_back_to_the_system() -> None:
    result = subprocess.run([sys.executable, "-c", FRAGMENTED_HEAP], cwd=REPO, capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    returned, kept = (int(v) for v in result.stdout.split())
    assert kept == 320
    assert returned > 120 * 2**20, f"only {returned / 2**20:.0f} MiB returned"


def test_one_trimming_thread_per_process() -> None:
    def trimmers() -> int:
        return sum(thread.name == "heap-trim" for thread in threading.enumerate())

    assert heap_trim.start() and heap_trim.start()
    assert trimmers() == 1
