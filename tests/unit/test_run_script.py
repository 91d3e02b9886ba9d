"""scripts/run installs requirements.txt only when it changed since the last
install (a stamp in .venv holds its hash), and says what it is doing.

The script runs for real in a copy of the repository's layout whose
``python3`` and ``.venv/bin/python`` are fakes that log their arguments, so
the test sees exactly when pip would run and when the app would start."""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from devtools.servers import REPO_ROOT

# Logs its arguments; "-m pip" fails when FAIL_PIP is set.
FAKE_PYTHON = """#!/usr/bin/env bash
echo "$*" >> "$CALLS"
if [[ "$1 $2" == "-m pip" && -n "${FAIL_PIP:-}" ]]; then exit 1; fi
exit 0
"""
# python3 -m venv .venv: makes .venv/bin/python the fake above.
FAKE_PYTHON3 = """#!/usr/bin/env bash
echo "python3 $*" >> "$CALLS"
mkdir -p "$3/bin" && cp "$FAKE" "$3/bin/python" && chmod +x "$3/bin/python"
"""


def executable(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "scripts").mkdir(parents=True)
    shutil.copy(REPO_ROOT / "scripts" / "run", root / "scripts" / "run")
    (root / "requirements.txt").write_text("dash>=4.0,<5\n")
    executable(tmp_path / "bin" / "python3", FAKE_PYTHON3)
    executable(tmp_path / "fake_python", FAKE_PYTHON)
    return root


def run(root: Path, **extra: str) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    calls = root.parent / "calls.log"
    calls.unlink(missing_ok=True)
    env = {**os.environ, "CALLS": str(calls), "FAKE": str(root.parent / "fake_python"),
           "PATH": f"{root.parent / 'bin'}:{os.environ['PATH']}", **extra}
    done = subprocess.run([str(root / "scripts" / "run")], env=env, capture_output=True, text=True,
                          timeout=60, check=False)
    return done, calls.read_text().splitlines() if calls.exists() else []


def pip_ran(calls: list[str]) -> bool:
    return any(call.startswith("-m pip install") for call in calls)


def test_the_first_run_builds_and_installs_then_a_restart_skips_pip(tree: Path) -> None:
    first, calls = run(tree)
    assert first.returncode == 0, first.stderr
    assert calls[0] == "python3 -m venv .venv"
    assert pip_ran(calls) and calls[-1] == "-m dashapp"
    assert "--quiet" not in " ".join(calls)  # pip's progress is shown
    stamp = tree / ".venv" / ".requirements.sha256"
    assert stamp.read_text().strip() == hashlib.sha256((tree / "requirements.txt").read_bytes()).hexdigest()
    steps = [line for line in first.stdout.splitlines() if line.startswith("[run] ")]
    assert [line.split()[1] for line in steps] == ["1/3", "2/3", "2/3", "3/3"]
    assert "creating the virtual environment" in steps[0]

    second, calls = run(tree)
    assert second.returncode == 0, second.stderr
    assert calls == ["-m dashapp"]  # no venv, no pip: straight to the app
    assert "pip skipped" in second.stdout


def test_a_changed_requirements_file_installs_again(tree: Path) -> None:
    run(tree)
    (tree / "requirements.txt").write_text("dash>=4.0,<5\nplotly>=6.0,<8\n")
    again, calls = run(tree)
    assert pip_ran(calls), again.stdout
    assert calls[-1] == "-m dashapp"
    _, calls = run(tree)
    assert calls == ["-m dashapp"]


def test_a_failed_install_leaves_no_stamp_and_does_not_start(tree: Path) -> None:
    run(tree)
    (tree / "requirements.txt").write_text("nonexistent-package==1\n")
    failed, calls = run(tree, FAIL_PIP="1")
    assert failed.returncode != 0
    assert "-m dashapp" not in calls
    assert not (tree / ".venv" / ".requirements.sha256").exists()
    retried, calls = run(tree)  # the next start tries pip again
    assert pip_ran(calls) and retried.returncode == 0
