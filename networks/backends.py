r"""One backend mechanism for the three network families (``gsemm``, ``aussm``, ``waves``).

Every family declares the same things, in the same words:

* ``BACKENDS`` — the names its ``backend=`` argument accepts, ``"auto"`` first;
* availability — ``<backend>_available() -> Availability(ok, reason)``: can the backend run on this
  machine at all (it imports, it builds)? ``reason`` says what was found, or why not and how to fix it;
* eligibility — ``why_not_<backend>(...) -> str | None``: ``None`` when *this call* can use the backend,
  else the reason (a sentence);
* a :class:`Family` that ties them together with the order ``"auto"`` tries.

and every ``backend=`` argument goes through :func:`resolve`, one policy for all families:

* an unknown name raises ValueError listing the choices;
* an explicit request that cannot be honoured raises :class:`BackendError` (both a ValueError and a
  RuntimeError) carrying the cause; nothing falls back silently;
* ``"auto"`` takes the first usable candidate in the declared order and *records* the choice: the
  returned :class:`Choice` is the backend's name (a ``str``) and carries, for each candidate passed
  over, why; the same record goes to the ``networks.backends`` logger at DEBUG level. Passing over a
  backend is the documented policy, not a fault, so it is never a warning.

:func:`table` walks every family's availability (``python -m experiments diagnose`` prints it).

Example
-------
>>> fast_ok = Availability(False, "no compiler")
>>> choice = resolve("auto", ("fast", "slow"), {"fast": lambda: None if fast_ok else fast_ok.reason,
...                                            "slow": None})
>>> choice, choice.skipped
('slow', (('fast', 'no compiler'),))
>>> resolve("fast", ("fast", "slow"), {"fast": "no compiler", "slow": None})
Traceback (most recent call last):
...
networks.backends.BackendError: backend='fast' does not apply: no compiler
"""
from __future__ import annotations

import importlib
import logging
import os
from dataclasses import dataclass, field
from typing import Callable, Mapping, NamedTuple, Optional, Sequence, Union

__all__ = ["Availability", "BackendError", "Choice", "Family", "FAMILIES", "interpreting", "resolve", "table",
           "why_not_device"]

log = logging.getLogger(__name__)

#: a reason a backend cannot be used: None (usable), a sentence, or a callable returning either (evaluated
#: only when needed, so that ``"auto"`` never builds or imports what it does not try)
Reason = Union[None, str, Callable[[], Optional[str]]]


class Availability(NamedTuple):
    """Whether a backend can run on this machine: ``(ok, reason)``, true exactly when ``ok``.

    ``reason`` says what was found (``ok``) or why not and how to fix it. It unpacks like the
    ``(bool, str)`` pairs it replaces, and ``if triton_available():`` still reads as before.

    >>> a = Availability(False, "triton is not installed; pip install triton")
    >>> ok, why = a
    >>> bool(a), ok, why
    (False, False, 'triton is not installed; pip install triton')
    """

    ok: bool
    reason: str

    def __bool__(self) -> bool:
        return bool(self.ok)


class BackendError(ValueError, RuntimeError):
    """An explicitly requested backend cannot run this call (the message carries the cause).

    Both a ValueError (the call's arguments do not fit the backend) and a RuntimeError (the machine lacks
    what the backend needs), so code written against either keeps catching it.

    >>> issubclass(BackendError, ValueError) and issubclass(BackendError, RuntimeError)
    True
    """


class Choice(str):
    """The backend a call runs on — a ``str`` equal to its name — with the record of how it was chosen:
    ``requested`` (what the caller passed) and ``skipped``, the ``(backend, reason)`` pairs that
    ``"auto"`` passed over, in order.

    >>> c = Choice("dense", "auto", (("native", "no C compiler"),))
    >>> c == "dense", c.requested, c.explain()
    (True, 'auto', "backend='auto' chose 'dense'; skipped native: no C compiler")
    """

    requested: str
    skipped: tuple

    def __new__(cls, backend: str, requested: str | None = None, skipped: Sequence[tuple[str, str]] = ()):
        self = super().__new__(cls, backend)
        self.requested = backend if requested is None else requested
        self.skipped = tuple((str(b), str(r)) for b, r in skipped)
        return self

    def __reduce__(self):
        return (Choice, (str(self), self.requested, self.skipped))

    def explain(self) -> str:
        """One line: what was asked, what was chosen, and why each earlier candidate was passed over.

        >>> Choice("torch").explain()
        "backend='torch'"
        """
        if self.requested == str(self):
            return f"backend={str(self)!r}"
        head = f"backend={self.requested!r} chose {str(self)!r}"
        if not self.skipped:
            return head
        return head + "; skipped " + "; ".join(f"{b}: {r}" for b, r in self.skipped)


def _evaluate(reason: Reason) -> str | None:
    out = reason() if callable(reason) else reason
    return out or None


def _says(name: str, reason: str) -> str:
    """``backend='x' does not apply: reason``, without repeating a ``backend='x'`` the reason starts with."""
    head = f"backend={name!r}"
    if reason.startswith(head):
        reason = reason[len(head):].lstrip(" :")
    return f"{head} does not apply: {reason}"


def resolve(requested: str, order: Sequence[str], reasons: Mapping[str, Reason], *,
            auto_only: Mapping[str, Reason] | None = None, choices: Sequence[str] | None = None,
            hints: Mapping[str, str] | None = None, family: str = "") -> Choice:
    """The one backend policy: map ``requested`` to a usable backend and say how it was chosen.

    ``reasons`` maps every backend to why it cannot run this call (``None``: it can; a callable is
    evaluated only when that backend is considered). ``order`` is the preference of ``"auto"``;
    ``auto_only`` adds reasons that only ``"auto"`` heeds (a backend that works but is not the better
    choice here, e.g. the Triton interpreter on a CPU, which is for tests). ``choices`` (default
    ``("auto", *reasons)``) are the accepted names; ``hints`` add a sentence to the error for a known
    wrong name.

    * a name not in ``choices`` raises ValueError;
    * an explicit name whose reason is not None raises :class:`BackendError` with the reason;
    * ``"auto"`` returns the first candidate of ``order`` with neither kind of reason, recording the
      others it passed over (:class:`Choice`, and a DEBUG log line); it raises :class:`BackendError` with
      every reason when none is usable.

    >>> resolve("auto", ("gpu", "cpu"), {"gpu": "no CUDA device", "cpu": None}).skipped
    (('gpu', 'no CUDA device'),)
    >>> resolve("cuda", ("cpu",), {"cpu": None}, hints={"cuda": " (did you mean 'gpu'?)"})
    Traceback (most recent call last):
    ...
    ValueError: unknown backend 'cuda'; choose one of ('auto', 'cpu') (did you mean 'gpu'?)
    """
    choices = tuple(choices) if choices is not None else ("auto",) + tuple(reasons)
    where = f" for {family}" if family else ""
    if not isinstance(requested, str) or requested not in choices:
        hint = (hints or {}).get(requested, "") if isinstance(requested, str) else ""
        raise ValueError(f"unknown backend {requested!r}{where}; choose one of {choices}{hint}")
    if requested != "auto":
        why = _evaluate(reasons.get(requested))
        if why:
            raise BackendError(_says(requested, why))
        return Choice(requested)
    skipped = []
    for name in order:
        why = _evaluate((auto_only or {}).get(name)) or _evaluate(reasons.get(name))
        if why is None:
            choice = Choice(name, "auto", skipped)
            if log.isEnabledFor(logging.DEBUG):
                log.debug("%s%s", f"{family}: " if family else "", choice.explain())
            return choice
        skipped.append((name, why))
    raise BackendError(f"backend='auto'{where} found no usable backend: "
                       + "; ".join(f"{b}: {r}" for b, r in skipped))


#: family name -> :class:`Family`, filled as the family modules are imported (see :func:`table`)
FAMILIES: dict[str, "Family"] = {}
#: the modules that declare the families, imported by :func:`table`
FAMILY_MODULES = ("networks.gsemm.integrate", "networks.aussm.ops", "networks.waves.scan_op")


def _always() -> Availability:
    return Availability(True, "pure torch (any device)")


@dataclass(frozen=True)
class Family:
    """A family's backend declarations: its ``backends`` (``"auto"`` first), the ``order`` that ``"auto"``
    tries, and ``available``: backend -> its ``*_available()`` (a backend left out is pure torch, always
    available). Creating one registers it in :data:`FAMILIES`.

    :meth:`resolve` is :func:`resolve` with the availability folded into each backend's reason (a call's
    own reason first, then the machine's), so all families apply the same policy.

    >>> fam = Family("demo", ("auto", "fast", "slow"), order=("fast", "slow"),
    ...              available={"fast": lambda: Availability(False, "not built")}, register=False)
    >>> fam.resolve("auto").explain()
    "backend='auto' chose 'slow'; skipped fast: not built"
    >>> [(b, bool(a)) for b, a in fam.table()]
    [('fast', False), ('slow', True)]
    """

    name: str
    backends: tuple
    order: tuple
    available: Mapping[str, Callable[[], Availability]] = field(default_factory=dict)
    hints: Mapping[str, str] = field(default_factory=dict)
    register: bool = True

    def __post_init__(self):
        if not self.backends or self.backends[0] != "auto":
            raise ValueError(f"{self.name}: 'auto' must come first in BACKENDS, got {self.backends}")
        extra = set(self.order) - set(self.backends) | set(self.available) - set(self.backends)
        if extra:
            raise ValueError(f"{self.name}: {sorted(extra)} are not in BACKENDS {self.backends}")
        if self.register:
            FAMILIES[self.name] = self

    def availability(self, backend: str) -> Availability:
        """The machine-level availability of one backend (``*_available()``, or pure torch).

        >>> Family("demo", ("auto", "cpu"), order=("cpu",), register=False).availability("cpu").ok
        True
        """
        return self.available.get(backend, _always)()

    def resolve(self, requested: str, reasons: Mapping[str, Reason] | None = None, *,
                auto_only: Mapping[str, Reason] | None = None) -> Choice:
        """:func:`resolve` over this family: ``reasons`` are the per-call ``why_not_*`` (a backend left out
        has none), each followed by the backend's availability.

        >>> Family("demo", ("auto", "cpu"), order=("cpu",), register=False).resolve("cpu")
        'cpu'
        """
        reasons = reasons or {}

        def reason(b):
            def why():
                own = _evaluate(reasons.get(b))
                if own:
                    return own
                ok, detail = self.availability(b)
                return None if ok else detail
            return why

        return resolve(requested, self.order, {b: reason(b) for b in self.backends[1:]}, auto_only=auto_only,
                       choices=self.backends, hints=self.hints, family=self.name)

    def table(self) -> list[tuple[str, Availability]]:
        """``(backend, Availability)`` for each backend other than ``"auto"``, in ``BACKENDS`` order.

        >>> Family("demo", ("auto", "cpu"), order=("cpu",), register=False).table()
        [('cpu', Availability(ok=True, reason='pure torch (any device)'))]
        """
        return [(b, self.availability(b)) for b in self.backends[1:]]


def table() -> list[tuple[str, str, Availability]]:
    """``(family, backend, Availability)`` for every backend of every family (importing the families).

    >>> rows = table()
    >>> sorted({fam for fam, _, _ in rows})
    ['aussm', 'gsemm', 'waves']
    >>> [b for fam, b, _ in rows if fam == "gsemm"]
    ['dense', 'subspace', 'native', 'triton']
    """
    for mod in FAMILY_MODULES:
        importlib.import_module(mod)
    return [(name, b, a) for name, fam in FAMILIES.items() for b, a in fam.table()]


def interpreting() -> bool:
    """True when ``TRITON_INTERPRET`` is on, read as Triton reads it (``1``, ``true``, ``on``, ``yes``, ``y``;
    any case): Triton then runs kernels on CPU tensors, slowly (for tests).

    >>> isinstance(interpreting(), bool)
    True
    """
    return os.environ.get("TRITON_INTERPRET", "0").strip().lower() in ("1", "true", "on", "yes", "y")


def why_not_device(device, what: str = "the Triton kernels") -> str | None:
    """``None`` when Triton kernels can run on ``device`` (CUDA, or the CPU under ``TRITON_INTERPRET=1``),
    else the reason.

    >>> import torch
    >>> why_not_device(torch.device("cuda")) is None
    True
    """
    kind = getattr(device, "type", str(device))
    if kind == "cuda" or (kind == "cpu" and interpreting()):
        return None
    return (f"tensors are on {device}; Triton runs {what} on CUDA tensors only (or on CPU tensors with "
            "TRITON_INTERPRET=1 set before triton is imported)")
