"""The Python example of docs/threads.md runs as written against the mesh."""

from __future__ import annotations

import contextlib
import io
import re
import uuid
from pathlib import Path

from graphmesh.stack import LocalStack

DOC = Path(__file__).resolve().parents[2] / "docs" / "threads.md"


def test_the_threads_guide_python_example_works(stack: LocalStack) -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    assert blocks, "the guide has no Python example"
    code = blocks[0].replace("127.0.0.1:50051", stack.gateway_target)
    code = code.replace('"T2"', f'"docs-{uuid.uuid4()}"')  # a fresh thread per test run
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, str(DOC), "exec"), {})
    printed = out.getvalue().splitlines()
    assert printed[0].startswith("INTERRUPTED [{'id': ")
    assert printed[1] == "{'trail': ['a', 'approved:yes', 'b']}"
