"""Typed experiment configurations and ``--set key=value`` parsing.

Every experiment declares its settings as a frozen dataclass whose fields carry a ``help`` text in
their metadata. :func:`apply_overrides` turns ``["N=100", "method=rk4"]`` into a new config, converting
each value to the field's type and raising a :class:`ConfigError` that names the key and the fix for
unknown keys or bad values -- before any work is done.

Example
-------
>>> from dataclasses import dataclass
>>> @dataclass(frozen=True)
... class Cfg:
...     N: int = setting(100, "number of feature neurons")
...     method: str = setting("euler", "integrator", choices=("euler", "rk4"))
>>> apply_overrides(Cfg(), ["N=64"]).N
64

Settings shared by several experiments live in frozen dataclasses (settings blocks, e.g.
:class:`experiments.gsemm.common.DSEMSettings`) that a config inherits; :func:`with_defaults` gives the inherited
settings other defaults and keeps their help text, choices and bounds. The fields stay flat, so
``--set alpha_c=3`` works whichever block declares ``alpha_c``:

>>> @with_defaults(N=64)
... class Small(Cfg):
...     L: int = setting(5, "sequence length")
>>> Small(), apply_overrides(Small(), ["method=rk4"]).method
(Small(N=64, method='euler', L=5), 'rk4')
"""
from __future__ import annotations

import dataclasses
import difflib
import json
import math
import types
import typing
from typing import Any, Iterable


class ConfigError(ValueError):
    """A bad experiment setting: the message names the key and how to fix it."""


#: the largest value of an integer setting that declares no ``maximum`` of its own: a count this large (steps,
#: epochs, items, neurons...) cannot finish or fit on any machine this library runs on, so it is refused up front
COUNT_LIMIT = 10 ** 9


def setting(default: Any, help: str, *, choices: Iterable[Any] | None = None, minimum: float | None = None,
            maximum: float | None = None, positive: bool = False):
    """Declare a dataclass field with a help text and optional validation (choices, bounds).

    Integer settings without a ``maximum`` are bounded by :data:`COUNT_LIMIT`."""
    meta = {"help": help, "choices": tuple(choices) if choices is not None else None,
            "minimum": minimum, "maximum": maximum, "positive": positive}
    if isinstance(default, (list, dict)):
        return dataclasses.field(default_factory=lambda: type(default)(default), metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def with_defaults(**defaults: Any):
    """Class decorator: make ``cls`` a frozen dataclass whose inherited settings named in ``defaults`` get those
    defaults; each keeps the type, help text, choices and bounds of the block that declares it. A name that no
    base class declares is a ``TypeError`` (a typo would otherwise add nothing)."""
    def wrap(cls):
        inherited: dict[str, dataclasses.Field] = {}
        for base in reversed(cls.__mro__[1:]):
            if dataclasses.is_dataclass(base):
                inherited.update({f.name: f for f in dataclasses.fields(base)})
        own = cls.__dict__.get("__annotations__", {})
        unknown = [k for k in defaults if k not in inherited or k in own]
        if unknown:
            raise TypeError(f"with_defaults: {unknown} are not settings that {cls.__name__} inherits")
        annotations = dict(own)
        for key, value in defaults.items():
            f = inherited[key]
            annotations[key] = f.type
            setattr(cls, key, dataclasses.field(default=value, metadata=f.metadata)
                    if not isinstance(value, (list, dict)) else
                    dataclasses.field(default_factory=lambda v=value: type(v)(v), metadata=f.metadata))
        cls.__annotations__ = annotations
        return dataclasses.dataclass(frozen=True)(cls)
    return wrap


def _field_types(cls) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def _convert(key: str, raw: str, typ: Any) -> Any:
    origin = typing.get_origin(typ)
    args = typing.get_args(typ)
    if origin is typing.Union or origin is types.UnionType:
        if raw.lower() in ("none", "null", ""):
            if type(None) in args:
                return None
        non_none = [a for a in args if a is not type(None)]
        last_err = None
        for a in non_none:
            try:
                return _convert(key, raw, a)
            except ConfigError as e:  # try the next member of the union
                last_err = e
        raise last_err or ConfigError(f"--set {key}={raw}: cannot parse")
    if typ is bool:
        low = raw.lower()
        if low in ("1", "true", "yes", "on"):
            return True
        if low in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"--set {key}={raw}: expected a boolean (true/false)")
    if typ is int:
        try:
            return int(raw)
        except ValueError:
            try:
                f = float(raw)
            except ValueError:
                f = None
            if f is not None and f.is_integer():
                return int(f)
            raise ConfigError(f"--set {key}={raw}: expected an integer") from None
    if typ is float:
        try:
            return float(raw)
        except ValueError:
            raise ConfigError(f"--set {key}={raw}: expected a number") from None
    if typ is str:
        return raw
    if origin in (list, tuple):
        inner = args[0] if args else str
        text = raw.strip()
        if text.startswith("["):
            try:
                items = json.loads(text)
            except json.JSONDecodeError as e:
                raise ConfigError(f"--set {key}={raw}: not a valid JSON list ({e})") from None
            if not isinstance(items, list):
                raise ConfigError(f"--set {key}={raw}: expected a list")
            if inner in (int, float):      # JSON items are checked like comma items: 'a' is not a number
                items = [_convert(key, json.dumps(x) if not isinstance(x, str) else x, inner) for x in items]
            return list(items) if origin is list else tuple(items)
        items = [_convert(key, p.strip(), inner) for p in text.split(",") if p.strip()]
        return items if origin is list else tuple(items)
    raise ConfigError(f"--set {key}: unsupported setting type {typ}")


def validate(cfg) -> None:
    """Check every field against its declared choices/bounds; raise :class:`ConfigError` on the first bad one."""
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        meta = f.metadata
        choices = meta.get("choices")
        if choices and value not in choices:
            raise ConfigError(f"{f.name}={value!r} is not one of {list(choices)}; "
                              f"pass e.g. --set {f.name}={choices[0]}")
        if value is None:
            continue
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(f"{f.name}={value!r} must be a finite number")
        if meta.get("positive") and isinstance(value, (int, float)) and not value > 0:
            raise ConfigError(f"{f.name}={value!r} must be > 0; pass a positive value with --set {f.name}=...")
        minimum = meta.get("minimum")
        if minimum is not None and isinstance(value, (int, float)) and value < minimum:
            raise ConfigError(f"{f.name}={value!r} must be >= {minimum}")
        maximum = meta.get("maximum")
        if maximum is not None and isinstance(value, (int, float)) and value > maximum:
            raise ConfigError(f"{f.name}={_short(value)} is above its limit {maximum:g}; a larger run cannot finish "
                              f"or fit here (see `--help` for every setting's bounds)")
        for item in (value if isinstance(value, (list, tuple)) else [value]):    # list settings item by item
            if maximum is None and isinstance(item, int) and not isinstance(item, bool) and item > COUNT_LIMIT:
                raise ConfigError(f"{f.name}={_short(item)} is above {COUNT_LIMIT:.0e}, the limit on any count "
                                  "setting (experiments.config.COUNT_LIMIT): a run of that size cannot finish or fit")


def _short(value) -> str:
    return f"{float(value):.3g}" if abs(value) >= 10 ** 15 else repr(value)


def apply_overrides(cfg, pairs: Iterable[str]):
    """Return ``cfg`` with ``key=value`` overrides applied, converted to each field's type and validated."""
    types = _field_types(type(cfg))
    changes: dict[str, Any] = {}
    for pair in pairs:
        if "=" not in pair:
            raise ConfigError(f"--set expects key=value, got {pair!r}")
        key, raw = pair.split("=", 1)
        key = key.strip()
        if key not in types:
            close = difflib.get_close_matches(key, list(types), n=3)
            hint = f" Did you mean {', '.join(close)}?" if close else ""
            raise ConfigError(f"unknown setting {key!r}.{hint} Valid keys: {', '.join(sorted(types))}")
        changes[key] = _convert(key, raw.strip(), types[key])
    new = dataclasses.replace(cfg, **changes)
    validate(new)
    return new


def describe(cfg_cls) -> str:
    """A help table of the settings of a config class: name, type, default and help text."""
    lines = []
    types = _field_types(cfg_cls)
    defaults = cfg_cls()
    for f in dataclasses.fields(cfg_cls):
        typ = types[f.name]
        tname = getattr(typ, "__name__", str(typ).replace("typing.", ""))
        extra = f" (one of {list(f.metadata['choices'])})" if f.metadata.get("choices") else ""
        bounds = [f">= {f.metadata['minimum']:g}"] if f.metadata.get("minimum") is not None else []
        bounds += ["> 0"] if f.metadata.get("positive") else []
        if f.metadata.get("maximum") is not None:
            bounds.append(f"<= {f.metadata['maximum']:g}")
        elif typ is int or typing.get_args(typ) == (int,):          # int and list[int] settings
            bounds.append(f"<= {COUNT_LIMIT:.0e}")
        extra += f" [{', '.join(bounds)}]" if bounds else ""
        lines.append(f"  {f.name:<14} {tname:<8} default={getattr(defaults, f.name)!r:<12} "
                     f"{f.metadata.get('help', '')}{extra}")
    return "\n".join(lines)


def to_dict(cfg) -> dict[str, Any]:
    """JSON-ready dict of a config dataclass."""
    return dataclasses.asdict(cfg)
