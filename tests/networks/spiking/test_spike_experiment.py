"""``python -m experiments run spike --quick`` through the CLI entry point."""
import json

import pytest

from experiments.cli import main

pytestmark = pytest.mark.brian2


def test_spike_quick(tmp_path):
    out = tmp_path / "spike"
    assert main(["run", "spike", "--quick", "--seed", "1", "--out", str(out)]) == 0
    m = json.loads((out / "metrics.json").read_text())
    for key in ("decoded", "order_agreement", "target", "build_seconds", "run_seconds", "summary"):
        assert key in m
    assert m["target"] == "runtime"
    assert m["transitions"] >= 7 and m["order_agreement"] >= 0.9
    assert (out / "raster.png").exists() and (out / "population_rates.png").exists()
