"""Stopping runs and sweeps cleanly: SIGTERM handled like Ctrl-C, sweep workers that never outlive their parent.

What a stop guarantees (tested in ``tests/experiments/test_signals.py``):

- ``run``: SIGINT (Ctrl-C) or SIGTERM removes the run's temporary ``.NAME.partial-PID`` folder and exits with
  130 (SIGINT) or 143 (SIGTERM); nothing is written at ``--out``. SIGKILL cannot be handled: the temporary folder
  stays until the next run into the same parent folder removes it (its process is gone).
- ``sweep``: SIGINT or SIGTERM to the parent (or Ctrl-C to the whole process group) cancels the queued runs,
  stops the running ones (their temporary folders are removed), keeps every finished run folder and writes the
  report with the finished runs as ``ok`` and the others as ``interrupted``; rerunning the same command resumes.
  Workers ignore SIGINT (the parent decides) and exit when their parent dies, even by SIGKILL.

Example
-------
>>> import os, signal
>>> with interruptible():
...     try:
...         os.kill(os.getpid(), signal.SIGTERM)
...         import time; time.sleep(1)
...     except Terminated as e:
...         print(exit_status(e))
143
"""
from __future__ import annotations

import os
import signal
import threading
import time
from contextlib import contextmanager

__all__ = ["Terminated", "interruptible", "exit_status", "worker_signals"]


class Terminated(KeyboardInterrupt):
    """Raised in the main thread when SIGTERM arrives inside :func:`interruptible`.

    It is a :class:`KeyboardInterrupt`, so every ``except KeyboardInterrupt`` clean-up also runs for SIGTERM.

    >>> issubclass(Terminated, KeyboardInterrupt)
    True
    """


#: set when SIGTERM arrived inside :func:`interruptible` (a library may turn the exception into a plain
#: KeyboardInterrupt on its way up, e.g. Ray's ``ray.wait``; :func:`interruptible` turns it back)
_sigterm_seen = threading.Event()


def _raise_terminated(signum, frame):
    _sigterm_seen.set()
    raise Terminated(signum)


@contextmanager
def interruptible():
    """While active (in the main thread), SIGTERM raises :class:`Terminated` instead of killing the process.

    The previous handler is restored on exit. Outside the main thread this does nothing (Python delivers
    signals to the main thread only).

    >>> with interruptible():
    ...     signal.getsignal(signal.SIGTERM) is _raise_terminated
    True
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _sigterm_seen.clear()
    old = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    except KeyboardInterrupt as e:
        if _sigterm_seen.is_set() and not isinstance(e, Terminated):
            raise Terminated(signal.SIGTERM) from e
        raise
    finally:
        signal.signal(signal.SIGTERM, old)
        _sigterm_seen.clear()


@contextmanager
def keep_sigterm():
    """Restore this process's SIGTERM handler after the block (for libraries that replace it, e.g. ``ray.init``).

    >>> with interruptible():
    ...     with keep_sigterm():
    ...         _ = signal.signal(signal.SIGTERM, signal.SIG_DFL)     # what such a library does
    ...     signal.getsignal(signal.SIGTERM) is _raise_terminated
    True
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.getsignal(signal.SIGTERM)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def exit_status(exc: BaseException) -> int:
    """The shell's exit status for an interrupt: 143 (128 + SIGTERM) for :class:`Terminated`, else 130 (SIGINT).

    >>> exit_status(KeyboardInterrupt()), exit_status(Terminated(15))
    (130, 143)
    """
    return 128 + signal.SIGTERM if isinstance(exc, Terminated) else 128 + signal.SIGINT


#: set by a sweep worker while it runs a spec (then SIGTERM raises, so the run folder is cleaned up)
_busy = threading.Event()


def _worker_sigterm(signum, frame):
    if _busy.is_set():
        raise Terminated(signum)
    os._exit(128 + signal.SIGTERM)            # idle: nothing to clean up


def _watch_parent(parent: int, period: float) -> None:
    while True:
        time.sleep(period)
        if os.getppid() != parent:           # re-parented: the sweep process is gone (even by SIGKILL)
            os.kill(os.getpid(), signal.SIGTERM)
            return


def worker_signals(period: float = 0.5) -> None:
    """Set up a sweep worker process: ignore SIGINT, turn SIGTERM into :class:`Terminated` while a run is
    going (idle workers exit at once) and send itself SIGTERM when its parent dies.

    Call it once, in the worker's initializer; it changes the process's signal handlers.

    >>> worker_signals()  # doctest: +SKIP  (changes this process's handlers)
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _worker_sigterm)
    threading.Thread(target=_watch_parent, args=(os.getppid(), period), daemon=True,
                     name="watch-parent").start()


@contextmanager
def busy():
    """Mark this worker as running a spec (SIGTERM then raises :class:`Terminated` in the main thread).

    >>> with busy():
    ...     _busy.is_set()
    True
    """
    _busy.set()
    try:
        yield
    finally:
        _busy.clear()
