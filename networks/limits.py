"""Up-front limits on the work and the memory of one call, so that a run that cannot finish or fit is refused
with the limit named instead of running until it is killed.

- **Memory.** A call that allocates ``nbytes`` up front (e.g. a recorded trajectory) is refused when ``nbytes``
  exceeds the memory available now on its device: ``MemAvailable`` of ``/proc/meminfo`` on the CPU
  (the physical memory where that file does not exist), the free memory reported by
  ``torch.cuda.mem_get_info`` on a CUDA device.
- **Steps.** A loop driven from Python of more than :data:`MAX_STEPS` steps is refused (about three hours at
  10 µs per step, the fastest such a loop goes).
- **Work.** A call of more than :data:`MAX_MULTIPLY_ADDS` multiply-adds is refused. At 10¹³ multiply-adds per
  second (a large GPU at its peak) that is about three hours; on a CPU core, years. No experiment of this
  library comes within six orders of magnitude of it, so the bound only stops runaway settings such as
  ``steps=1e99``.

Example
-------
>>> check_work(1e9, "simulate")
>>> check_work(1e30, "simulate", "use fewer steps")
Traceback (most recent call last):
...
ValueError: simulate needs about 1e+30 multiply-adds, more than the limit of 1e+17 (...); use fewer steps
"""
from __future__ import annotations

import os

import torch

__all__ = ["MAX_MULTIPLY_ADDS", "MAX_STEPS", "available_memory", "check_fits", "check_steps", "check_work"]

#: the largest number of multiply-adds one call may need (see the module docstring)
MAX_MULTIPLY_ADDS = 1e17
#: the largest number of steps of a loop driven from Python (e.g. a learner fed step by step): at 10 µs per step,
#: the fastest such a loop goes, about three hours
MAX_STEPS = 1e9


def available_memory(device: torch.device | str = "cpu") -> int:
    """Bytes that can be allocated now on ``device`` (see the module docstring for the source of the figure).

    >>> available_memory("cpu") > 0
    True
    """
    device = torch.device(device)
    if device.type == "cuda":
        return int(torch.cuda.mem_get_info(device)[0])
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 2 ** 63 - 1                                 # unknown: no limit


def _size(nbytes: float) -> str:
    for unit, scale in (("TiB", 2 ** 40), ("GiB", 2 ** 30), ("MiB", 2 ** 20), ("KiB", 2 ** 10)):
        if nbytes >= scale:
            return f"{nbytes / scale:.3g} {unit}"
    return f"{int(nbytes)} bytes"


def check_fits(nbytes: float, what: str, device: torch.device | str = "cpu", hint: str = "") -> None:
    """Raise ``ValueError`` when ``what`` needs more than the :func:`available_memory` of ``device``.

    >>> check_fits(1024, "a small buffer")
    >>> check_fits(2.0 ** 70, "recording the trajectory", hint="record less often")
    Traceback (most recent call last):
    ...
    ValueError: recording the trajectory needs 1.07e+09 TiB, more than the ... available on cpu; record less often
    """
    free = available_memory(device)
    if nbytes > free:
        raise ValueError(f"{what} needs {_size(nbytes)}, more than the {_size(free)} available on "
                         f"{torch.device(device)}" + (f"; {hint}" if hint else ""))


def check_work(multiply_adds: float, what: str, hint: str = "") -> None:
    """Raise ``ValueError`` when ``what`` needs more than :data:`MAX_MULTIPLY_ADDS` multiply-adds.

    >>> check_work(10 ** 6 * 64 * 64, "one million steps at N = 64")
    """
    if multiply_adds > MAX_MULTIPLY_ADDS:
        hours = MAX_MULTIPLY_ADDS / 1e13 / 3600
        raise ValueError(f"{what} needs about {multiply_adds:.3g} multiply-adds, more than the limit of "
                         f"{MAX_MULTIPLY_ADDS:.3g} (networks.limits.MAX_MULTIPLY_ADDS: about {hours:.0f} hours at "
                         "1e13 per second)" + (f"; {hint}" if hint else ""))


def check_steps(steps: float, what: str, hint: str = "") -> None:
    """Raise ``ValueError`` when ``what`` is a Python-driven loop of more than :data:`MAX_STEPS` steps.

    >>> check_steps(10 ** 6, "presenting the sequence")
    >>> check_steps(1e12, "presenting the sequence", "use fewer epochs")
    Traceback (most recent call last):
    ...
    ValueError: presenting the sequence takes 1e+12 steps, more than the limit of 1e+09 (...); use fewer epochs
    """
    if steps > MAX_STEPS:
        hours = MAX_STEPS * 1e-5 / 3600
        raise ValueError(f"{what} takes {float(steps):.3g} steps, more than the limit of {MAX_STEPS:.3g} "
                         f"(networks.limits.MAX_STEPS: about {hours:.0f} hours at 10 µs per step)"
                         + (f"; {hint}" if hint else ""))
