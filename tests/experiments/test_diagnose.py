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
    # the same backend table the libraries resolve backend= with: every family, every backend, yes/no, reason
    from networks.backends import FAMILIES
    for fam in ("gsemm", "aussm", "waves"):
        for b in FAMILIES[fam].backends[1:]:
            assert re.search(rf"^{fam}\s+{b}\s+(yes|no)\s+\S", out, re.M), (fam, b)
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


def test_backend_table_walks_every_family(monkeypatch):
    from networks.backends import Availability
    from networks.gsemm import integrate
    monkeypatch.setitem(integrate.FAMILY.available, "native", lambda: Availability(False, "no C\ncompiler"))
    rows = {(f, b): (ok, why) for f, b, ok, why in diagnose.backend_table()}
    assert rows[("gsemm", "native")] == (False, "no C compiler")          # one line per backend
    assert rows[("gsemm", "dense")][0] and rows[("aussm", "torch")][0] and rows[("waves", "torch")][0]
    assert {("aussm", "triton"), ("waves", "triton"), ("gsemm", "triton")} <= set(rows)


def test_docstring_examples():
    import doctest
    result = doctest.testmod(diagnose, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 5 and result.failed == 0
