"""The run folder and everything an experiment needs while it runs.

A :class:`RunContext` owns a temporary folder next to the final one; the experiment writes its
figures and arrays there, and :meth:`RunContext.finish` writes ``config.json``, ``metrics.json`` and
``versions.json`` and then renames the folder into place. If the experiment raises, the temporary
folder is removed, so a run folder is either complete or absent -- never half-written.

Example
-------
>>> import tempfile, pathlib
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> ctx = RunContext.create(root / "demo", config={"N": 3}, seed=0, device="cpu")
>>> path = ctx.finish({"ok": True})
>>> sorted(p.name for p in path.iterdir())
['config.json', 'metrics.json', 'versions.json']
"""
from __future__ import annotations

import json
import math
import os
import platform
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import torch


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, torch.Tensor):
        return _jsonable(obj.detach().cpu().tolist())
    if hasattr(obj, "item") and hasattr(obj, "dtype"):  # numpy scalar
        return _jsonable(obj.item())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None if math.isnan(obj) else ("inf" if obj > 0 else "-inf")
    if isinstance(obj, Path):
        return str(obj)
    return obj


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON to ``path`` through a temporary file and an atomic rename."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w") as fh:
        json.dump(_jsonable(data), fh, indent=2, sort_keys=False)
        fh.write("\n")
    os.replace(tmp, path)


def versions() -> dict[str, Any]:
    """Versions of the library, Python, torch, CUDA and (when installed) Brian2 and Triton."""
    out: dict[str, Any] = {
        "library": _library_version(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "cuda_device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "platform": platform.platform(),
        "threads": torch.get_num_threads(),
    }
    for mod in ("numpy", "triton", "brian2", "brian2cuda"):
        m = sys.modules.get(mod)
        if m is not None:
            out[mod] = getattr(m, "__version__", "unknown")
    return out


def _library_version() -> str:
    try:
        from importlib.metadata import version
        return version("seqplastic")
    except Exception:  # not installed as a distribution (e.g. running from a source tree)
        return "0+source"


#: the files every finished run folder holds (what --overwrite checks before deleting anything)
RUN_FILES = ("config.json", "metrics.json", "versions.json")


def is_run_folder(path: Path) -> bool:
    """True for a folder that :meth:`RunContext.finish` wrote (it holds :data:`RUN_FILES`).

    >>> import tempfile, pathlib
    >>> is_run_folder(pathlib.Path(tempfile.mkdtemp()))
    False
    """
    path = Path(path)
    return path.is_dir() and all((path / f).is_file() for f in RUN_FILES)


def replaceable(path: Path) -> bool:
    """What ``--overwrite`` may delete: a finished run folder, or the record of a failed sweep run (a folder that
    holds only ``error.txt``).

    >>> import tempfile, pathlib
    >>> replaceable(pathlib.Path(tempfile.mkdtemp()))        # an empty folder is not a run
    False
    """
    path = Path(path)
    if is_run_folder(path):
        return True
    return path.is_dir() and {p.name for p in path.iterdir()} == {"error.txt"}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - someone else's live process
        return True
    return True


def remove_stale_partials(out: Path) -> list[Path]:
    """Remove the ``.NAME.partial-PID`` folders next to ``out`` whose process is gone (left by a killed run).

    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> (root / ".r.partial-999999999").mkdir()
    >>> [p.name for p in remove_stale_partials(root / "r")]
    ['.r.partial-999999999']
    """
    gone = []
    for p in Path(out).parent.glob(f".{Path(out).name}.partial-*"):
        suffix = p.name.rsplit("-", 1)[-1]
        if suffix.isdigit() and int(suffix) != os.getpid() and not _alive(int(suffix)) and p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
            gone.append(p)
    return gone


_AGG = False


def pyplot():
    """``matplotlib.pyplot``, with the non-interactive Agg backend chosen on the first call (runs write PNG
    files and may have no display). Every figure of an experiment starts here: ``plt = pyplot()``.

    >>> fig, ax = pyplot().subplots()
    >>> type(fig).__name__
    'Figure'
    >>> pyplot().close(fig)
    """
    global _AGG
    if not _AGG:
        import matplotlib
        matplotlib.use("Agg")
        _AGG = True
    import matplotlib.pyplot as plt
    return plt


def progress_enabled() -> bool:
    """Progress bars are shown on a terminal and hidden in CI or when output is redirected."""
    if os.environ.get("CI"):
        return False
    return sys.stderr.isatty()


@dataclass
class RunContext:
    """State of one experiment run: output folder, seed, device, dtype and helpers.

    Attributes: ``out`` (final folder), ``tmp`` (where files are written while running), ``seed``,
    ``device`` (a :class:`torch.device`), ``config`` (JSON-ready dict).
    """

    out: Path
    tmp: Path
    seed: int
    device: torch.device
    config: dict[str, Any]
    started: float = field(default_factory=time.perf_counter)
    quiet: bool = False
    overwrite: bool = False

    @classmethod
    def create(cls, out: Path | str, *, config: dict[str, Any], seed: int, device: str = "cpu",
               overwrite: bool = False, quiet: bool = False) -> "RunContext":
        out = Path(os.path.abspath(out))                    # "a/b/.." is "a": checked as what it really is
        if out.name in ("", ".", ".."):
            raise ValueError(f"--out {out} has no folder name; give a folder such as runs/my-run")
        for parent in out.parents:
            if parent.exists() and not parent.is_dir():
                raise ValueError(f"--out {out}: {parent} is a file, not a folder")
        if out.exists() and not out.is_dir():
            raise ValueError(f"--out {out} is a file, not a run folder; pass another --out")
        if out.exists() and not overwrite:
            raise FileExistsError(f"run folder {out} already exists; pass another --out, remove it, or add --overwrite")
        if out.exists() and not replaceable(out):
            raise ValueError(f"--overwrite replaces only a run folder (one with {', '.join(RUN_FILES)}); "
                             f"{out} is not one, so nothing was deleted; pass another --out")
        dev = resolve_device(device)
        out.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_partials(out)
        tmp = out.with_name(f".{out.name}.partial-{os.getpid()}")
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir()
        return cls(out=out, tmp=tmp, seed=seed, device=dev, config=config, quiet=quiet, overwrite=overwrite)

    # -- helpers for experiments -------------------------------------------------------------
    def generator(self, offset: int = 0, device: torch.device | str | None = None) -> torch.Generator:
        """A fresh torch generator seeded with ``seed + offset`` (CPU unless ``device`` is given)."""
        g = torch.Generator(device=device or "cpu")
        g.manual_seed(self.seed + offset)
        return g

    def path(self, name: str) -> Path:
        """Path of a file inside the (temporary) run folder."""
        return self.tmp / name

    def save_figure(self, fig, name: str) -> Path:
        """Save a matplotlib figure (made with :func:`pyplot`) as PNG in the run folder and close it."""
        p = self.path(name if name.endswith(".png") else name + ".png")
        fig.savefig(p, dpi=110, bbox_inches="tight")
        pyplot().close(fig)
        return p

    def progress(self, iterable: Iterable | None = None, total: int | None = None, desc: str = ""):
        """A tqdm progress bar, disabled when not on a terminal or when ``CI`` is set."""
        from tqdm.auto import tqdm
        return tqdm(iterable, total=total, desc=desc, disable=self.quiet or not progress_enabled(), leave=False)

    def progress_flag(self, desc: str):
        """``desc`` when progress bars are on (pass as ``progress=`` to library loops), else ``False``."""
        return desc if (not self.quiet and progress_enabled()) else False

    def log(self, msg: str) -> None:
        if not self.quiet:
            print(msg, file=sys.stderr)

    # -- end of run ----------------------------------------------------------------------------
    def finish(self, metrics: dict[str, Any]) -> Path:
        """Write config/metrics/versions, then move the folder into place atomically. A finished run folder at
        ``out`` is replaced only with ``overwrite``; if another run finished there meanwhile (or it is not a run
        folder), this run's report goes to ``out-<pid>`` instead and a warning says so."""
        metrics = dict(metrics)
        metrics.setdefault("wall_seconds", round(time.perf_counter() - self.started, 3))
        write_json_atomic(self.tmp / "config.json", {**self.config, "seed": self.seed, "device": str(self.device)})
        write_json_atomic(self.tmp / "versions.json", versions())
        write_json_atomic(self.tmp / "metrics.json", metrics)
        target = self.out
        if target.exists():
            if self.overwrite and replaceable(target):
                shutil.rmtree(target)
            else:
                target = self.out.with_name(f"{self.out.name}-{os.getpid()}")
                print(f"warning: {self.out} appeared while this run was going (another run?); it is left as it "
                      f"is and this run's report is at {target}", file=sys.stderr)
        os.replace(self.tmp, target)
        return target

    def abort(self) -> None:
        """Remove the temporary folder (called when the experiment raised)."""
        shutil.rmtree(self.tmp, ignore_errors=True)


def resolve_device(device: str | torch.device) -> torch.device:
    """Parse a device name; ``cuda`` without a CUDA device raises a clear error."""
    try:
        dev = torch.device(device)
    except RuntimeError as e:
        raise ValueError(f"--device {device!r} is not a valid device name (use cpu or cuda)") from e
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("--device cuda was requested but torch sees no CUDA device "
                           f"(torch {torch.__version__}, built with CUDA {torch.version.cuda}); use --device cpu")
    return dev
