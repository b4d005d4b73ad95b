"""The documentation site (mkdocs.yml) builds with warnings as errors, API reference included, and a page
that a teammate adds without listing it in `nav` does not break the strict build."""
import doctest
import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _strict_build(tmp_path: Path) -> subprocess.CompletedProcess:
    """Build a copy of docs/ (plus a page missing from nav) with the project's mkdocs.yml, paths made absolute."""
    docs = tmp_path / "docs"
    shutil.copytree(ROOT / "docs", docs)
    (docs / "zz_not_in_nav.md").write_text("# A page not listed in nav\n\nSee [the concepts](concepts.md).\n")
    cfg = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    cfg["docs_dir"] = str(docs)
    cfg["site_dir"] = str(tmp_path / "site")
    for plugin in cfg["plugins"]:
        if isinstance(plugin, dict) and "mkdocstrings" in plugin:
            python = plugin["mkdocstrings"]["handlers"]["python"]
            python["paths"] = [str(ROOT)]
            python["options"]["extensions"] = [str(ROOT / e) for e in python["options"]["extensions"]]
    config = tmp_path / "mkdocs.yml"
    config.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def test_site_builds_strict(tmp_path):
    res = _strict_build(tmp_path)
    assert res.returncode == 0, res.stderr[-4000:]
    assert "WARNING" not in res.stderr, res.stderr[-4000:]
    site = tmp_path / "site"
    for page in ("index.html", "installation/index.html", "concepts/index.html", "experiments/index.html",
                 "gsemm/index.html", "zz_not_in_nav/index.html"):
        assert (site / page).exists(), page
    api = (site / "api" / "index.html").read_text()
    for ident in ("plasticity.PairSTDP", "networks.gsemm.simulate", "networks.waves.TWMCell",
                  "networks.aussm.aussm_scan", "experiments.sweep.run_sweep", "experiments.diagnose.check"):
        assert f'id="{ident}"' in api, ident
    assert 'class="language-python' in api  # doctest examples rendered as code, not as link references
    assert "not included in the" in res.stderr  # the extra page is reported (INFO), not an error


def test_nav_lists_existing_pages():
    cfg = yaml.safe_load((ROOT / "mkdocs.yml").read_text())

    def pages(nav):
        for item in nav:
            value = next(iter(item.values())) if isinstance(item, dict) else item
            yield from pages(value) if isinstance(value, list) else [value]

    listed = list(pages(cfg["nav"]))
    assert listed[0] == "index.md" and "api.md" in listed
    assert all((ROOT / "docs" / p).exists() for p in listed), listed


def test_doctest_fences_extension():
    spec = importlib.util.spec_from_file_location("doctest_fences", ROOT / "docs" / "_ext" / "doctest_fences.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert doctest.testmod(mod).failed == 0
    text = "Intro.\n\n>>> f([1])\n[0, 1]\n\nAfter.\n\n```python\n>>> kept\n```"
    assert mod.fence(text) == ("Intro.\n\n```python\n>>> f([1])\n[0, 1]\n```\n\nAfter.\n\n```python\n>>> kept\n```")
