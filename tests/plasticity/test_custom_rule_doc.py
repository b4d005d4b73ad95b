"""docs/custom_rule.md: its ```python blocks run in order in one namespace (as the docs runner does)."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "custom_rule.md"


def test_custom_rule_page_executes():
    text = DOC.read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert len(blocks) >= 4
    namespace: dict = {"__name__": "docs_custom_rule"}
    for i, block in enumerate(blocks):
        exec(compile(block, f"{DOC.name}[block {i}]", "exec", dont_inherit=True), namespace)
    assert "Covariance" in namespace and namespace["w_local"].shape == (2, 3)
