"""Every error a newcomer can hit from the command line is one line that names the fix, exit status 2,
and leaves no run folder behind."""
import sys

import pytest
import torch

from experiments.cli import main


def _err(capsys) -> str:
    captured = capsys.readouterr()
    return captured.err


def test_typo_in_experiment_name(capsys, tmp_path):
    assert main(["run", "strem", "--out", str(tmp_path / "r")]) == 2
    err = _err(capsys)
    assert "Did you mean stream" in err and "python -m experiments list" in err
    assert main(["sweep", "escape_tim", "--grid", "T_d=10"]) == 2
    assert "Did you mean escape_time" in _err(capsys)
    assert not (tmp_path / "r").exists()


def test_typo_in_subcommand(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["runn", "stream"])
    assert exc.value.code == 2
    assert "choose from" in _err(capsys)


def test_typo_in_set_key_and_bad_values(capsys, tmp_path):
    out = str(tmp_path / "r")
    assert main(["run", "stream", "--set", "capacty=3", "--out", out]) == 2
    err = _err(capsys)
    assert "Did you mean capacity" in err and "--help" in err
    assert main(["run", "stream", "--set", "capacity=three", "--out", out]) == 2
    assert "--set capacity=three: expected an integer" in _err(capsys)
    assert main(["run", "escape_time", "--set", "dtype=float16", "--out", out]) == 2
    assert "not one of ['float32', 'float64']" in _err(capsys)
    assert main(["run", "stream", "--set", "capacity", "--out", out]) == 2
    assert "key=value" in _err(capsys)
    assert main(["run", "stream", "--set", "beta=nan", "--out", out]) == 2
    assert "beta=nan must be a finite number" in _err(capsys)
    assert not (tmp_path / "r").exists()


def test_missing_plot_extra_fails_before_any_work(monkeypatch, capsys, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now raises ModuleNotFoundError
    assert main(["run", "escape_time", "--quick", "--out", str(tmp_path / "r")]) == 2
    assert "pip install -e '.[plot]'" in _err(capsys)
    assert not (tmp_path / "r").exists() and not list(tmp_path.iterdir())


def test_missing_spiking_extra(monkeypatch, capsys, tmp_path):
    for name in [m for m in sys.modules if m.split(".")[0] == "brian2" or m.startswith(("networks.spiking",
                                                                                       "experiments.spiking"))]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "brian2", None)
    assert main(["run", "spike", "--quick", "--out", str(tmp_path / "r")]) == 2
    err = _err(capsys)
    assert "Brian2" in err and "pip install -e .[spiking]" in err
    assert not (tmp_path / "r").exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message shown when there is no GPU")
def test_device_cuda_without_gpu(capsys, tmp_path):
    assert main(["run", "replay", "--quick", "--device", "cuda", "--out", str(tmp_path / "r")]) == 2
    assert "use --device cpu" in _err(capsys)
    assert main(["run", "replay", "--quick", "--device", "gpu", "--out", str(tmp_path / "r")]) == 2
    assert "use cpu or cuda" in _err(capsys)
    assert main(["sweep", "replay", "--grid", "steps=100", "--device", "cuda", "--out", str(tmp_path / "s")]) == 2
    assert "use --device cpu" in _err(capsys)
    assert not (tmp_path / "r").exists() and not (tmp_path / "s").exists()


def test_existing_out_folder_and_missing_data_file(capsys, tmp_path):
    (tmp_path / "r").mkdir()
    assert main(["run", "replay", "--quick", "--out", str(tmp_path / "r")]) == 2
    assert "already exists; pass another --out" in _err(capsys)
    assert main(["run", "stream", "--set", "data=nowhere.npy", "--out", str(tmp_path / "d")]) == 2
    assert "nowhere.npy: file not found" in _err(capsys)
    assert not (tmp_path / "d").exists()


def test_missing_ray_extra(monkeypatch, capsys, tmp_path):
    monkeypatch.setitem(sys.modules, "ray", None)
    rc = main(["sweep", "escape_time", "--quick", "--grid", "T_d=10", "--engine", "ray", "--out", str(tmp_path)])
    assert rc == 2
    assert "pip install -e '.[ray]'" in _err(capsys)
