"""`python -m experiments diagnose`: versions, one verdict per backend, exit status."""
import re

from experiments import diagnose
from experiments.cli import main

VERDICT = re.compile(r"^(\S+)\s+(OK \(.*\)|UNAVAILABLE: .+|FAILED: .+)$")


def test_diagnose_prints_versions_and_a_verdict_per_backend(capsys):
    rc = main(["diagnose"])
    out = capsys.readouterr().out
    assert rc == 0, out
    for name in ("seqplastic", "Python", "torch", "CUDA (torch build)", "Triton", "Brian2", "brian2cuda"):
        assert re.search(rf"^{re.escape(name)}\s+\S", out, re.M), name
    tail = out.strip().splitlines()[-len(diagnose.BACKENDS):]  # the output ends with the verdicts
    verdicts = dict(VERDICT.match(line).groups() for line in tail)
    assert list(verdicts) == list(diagnose.BACKENDS)
    assert verdicts["torch-cpu"].startswith("OK")
    # this machine (and CI) has a C compiler, Brian2 and Triton installed by .ci/setup
    assert verdicts["gsemm-native"].startswith("OK"), verdicts["gsemm-native"]
    assert verdicts["brian2-runtime"].startswith("OK"), verdicts["brian2-runtime"]
    assert verdicts["triton"].startswith("OK"), verdicts["triton"]
    import torch
    if not torch.cuda.is_available():
        assert verdicts["torch-cuda"].startswith("UNAVAILABLE: torch")
        assert verdicts["brian2-cuda"].startswith("UNAVAILABLE")


def test_failures_and_unavailable_backends_are_reported(monkeypatch, capsys):
    def broken():
        raise ZeroDivisionError("boom")

    def missing():
        raise diagnose.Unavailable("not here; pip install it")

    monkeypatch.setitem(diagnose.BACKENDS, "broken", broken)
    monkeypatch.setitem(diagnose.BACKENDS, "missing", missing)
    assert diagnose.main(["broken", "missing"]) == 1
    out = capsys.readouterr().out.strip().splitlines()
    assert out[-2] == "broken             FAILED: ZeroDivisionError: boom"
    assert out[-1] == "missing            UNAVAILABLE: not here; pip install it"


def test_docstring_examples():
    import doctest
    result = doctest.testmod(diagnose, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 5 and result.failed == 0
