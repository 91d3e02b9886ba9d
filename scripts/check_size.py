"""Fail when a module is over 400 lines or a function over 80 (the project's size rule).

    .venv/bin/python scripts/check_size.py [PATH ...]   (default: dashapp; a folder is read recursively)
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 80


def problems(root: Path) -> list[str]:
    if not root.exists():
        return [f"{root}: no such file or folder"]
    found = []
    for path in [root] if root.is_file() else sorted(root.rglob("*.py")):
        text = path.read_text()
        lines = text.count("\n") + (not text.endswith("\n"))
        if lines > MAX_MODULE_LINES:
            found.append(f"{path}: {lines} lines (max {MAX_MODULE_LINES})")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                length = (node.end_lineno or node.lineno) - start + 1
                if length > MAX_FUNCTION_LINES:
                    found.append(f"{path}:{node.lineno}: {node.name} is {length} lines (max {MAX_FUNCTION_LINES})")
    return found


if __name__ == "__main__":
    issues = [issue for root in sys.argv[1:] or ["dashapp"] for issue in problems(Path(root))]
    print("\n".join(issues) or "sizes ok")
    sys.exit(1 if issues else 0)
