"""Every ```python block of every page in docs/ is executed, in order, in one namespace per page.

A page whose code needs an optional feature says so in its block (e.g. by checking
``torch.cuda.is_available()``); nothing is skipped here.
"""
import re
import sys
import types
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
PAGES = sorted(p for p in DOCS.glob("*.md"))
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def blocks(page: Path) -> list[str]:
    return BLOCK.findall(page.read_text())


def test_docs_have_pages():
    assert any(blocks(p) for p in PAGES), "no executable documentation found"


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_page_runs(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CI", "1")  # no progress bars
    module = types.ModuleType(f"_docs_{page.stem}")
    sys.modules[module.__name__] = module  # dataclasses defined in a page need a real module
    try:
        for i, code in enumerate(blocks(page)):
            compiled = compile(code, f"{page.name}[block {i}]", "exec", dont_inherit=True)
            exec(compiled, module.__dict__)
    finally:
        sys.modules.pop(module.__name__, None)
