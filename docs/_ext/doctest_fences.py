"""Griffe extension for the documentation site: fence doctest examples in docstrings.

The library's docstrings hold ``>>>`` examples in plain text (numpy-style ``Example`` sections, or in the
body). Rendered as Markdown, an output line such as ``[0, 1, 2]`` would be read as a link reference and
break ``mkdocs build --strict``. This extension wraps every doctest run (the ``>>>``/``...`` lines and the
output lines up to the next blank line) in a ```` ```python ```` fence before the docstring is parsed.

>>> fence(">>> 1 + 1\\n2").splitlines()
['```python', '>>> 1 + 1', '2', '```']
"""
from __future__ import annotations

import griffe


def fence(text: str) -> str:
    """Wrap each doctest run of ``text`` in a fenced python block (already fenced text is left alone)."""
    out: list[str] = []
    inside, fenced, indent = False, False, ""
    for line in text.splitlines():
        stripped = line.lstrip()
        if stripped.startswith("```"):
            fenced = not fenced
        if not fenced and not inside and stripped.startswith(">>>"):
            indent = line[: len(line) - len(stripped)]
            out.append(f"{indent}```python")
            inside = True
        elif inside and not stripped:
            out.append(f"{indent}```")
            inside = False
        out.append(line)
    if inside:
        out.append(f"{indent}```")
    return "\n".join(out)


class DoctestFences(griffe.Extension):
    """Fence the doctest examples of every object's docstring."""

    def on_instance(self, *, obj: griffe.Object, **kwargs) -> None:
        if obj.docstring is not None:
            obj.docstring.value = fence(obj.docstring.value)
