"""The Python examples of the guides run as written against the mesh."""

from __future__ import annotations

import contextlib
import io
import re
import uuid
from pathlib import Path

from graphmesh.testing.stack import LocalStack

DOCS = Path(__file__).resolve().parents[2] / "docs"
DOC = DOCS / "threads.md"


def run_example(path: Path, stack: LocalStack, *replacements: tuple[str, str]) -> list[str]:
    """Runs the guide's first Python block against the mesh; its printed lines."""
    blocks = re.findall(r"```python\n(.*?)```", path.read_text(), flags=re.S)
    assert blocks, f"{path.name} has no Python example"
    code = blocks[0].replace("127.0.0.1:50051", stack.gateway_target)
    for old, new in replacements:
        code = code.replace(old, new)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, str(path), "exec"), {})
    return out.getvalue().splitlines()


def test_the_threads_guide_python_example_works(stack: LocalStack) -> None:
    # A fresh thread per test run.
    printed = run_example(DOC, stack, ('"T2"', f'"docs-{uuid.uuid4()}"'))
    assert printed[0].startswith("INTERRUPTED [{'id': ")
    assert printed[1] == "{'trail': ['a', 'approved:yes', 'b']}"


def test_the_runs_guide_python_example_works(stack: LocalStack) -> None:
    assert run_example(DOCS / "runs.md", stack) == ["The answer is 5.", "CANCELLED"]


def test_the_assistants_guide_python_example_works(stack: LocalStack) -> None:
    assert run_example(DOCS / "assistants.md", stack) == [
        "warm hello Ann from u-42 via small-1",
        "warm hello Bo from support via large-2 2",
        "{'configurable': {'model': 'small-1'}}",
    ]


def test_the_store_guide_python_example_works(stack: LocalStack) -> None:
    label = f"u-{uuid.uuid4().hex[:8]}"
    assert run_example(
        DOCS / "store.md", stack, ('"u-7"', f'"{label}"'), ('"prefs"', '"prefs-' + label + '"')
    ) == [
        "likes green tea",
        "['drink']",
        f"[('prefs-{label}', '{label}')]",
        "['drink']",
    ]
