"""Search spaces written in configuration (``conf/search_space/*.yaml``) and sampled through an Optuna trial."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import optuna

#: Keys each kind of parameter takes (beside ``type``).
KINDS: dict[str, tuple[set[str], set[str]]] = {
    # kind: (required keys, optional keys)
    "float": ({"low", "high"}, {"log", "step"}),
    "int": ({"low", "high"}, {"log", "step"}),
    "categorical": ({"choices"}, set()),
}


def check_space(space: Mapping[str, Mapping[str, Any]]) -> None:
    """Raise ValueError naming the first parameter whose spec is not ``{type, low, high[, log, step]}`` or
    ``{type: categorical, choices}``, so that a typo stops the worker before its first trial."""
    if not space:
        raise ValueError("the search space has no parameters")
    for name, spec in space.items():
        kind = spec.get("type")
        if kind not in KINDS:
            raise ValueError(f"search space {name!r}: type must be one of {', '.join(KINDS)}, not {kind!r}")
        required, optional = KINDS[kind]
        keys = set(spec) - {"type"}
        if missing := required - keys:
            raise ValueError(f"search space {name!r}: missing {', '.join(sorted(missing))}")
        if unknown := keys - required - optional:
            raise ValueError(f"search space {name!r}: unknown {', '.join(sorted(unknown))}")
        if kind != "categorical" and not spec["low"] < spec["high"]:
            raise ValueError(f"search space {name!r}: low must be below high")


def suggest(trial: optuna.Trial, space: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """One value per parameter of ``space``, sampled by the trial's sampler."""
    params: dict[str, Any] = {}
    for name, spec in space.items():
        if spec["type"] == "categorical":
            params[name] = trial.suggest_categorical(name, list(spec["choices"]))
        elif spec["type"] == "int":
            params[name] = trial.suggest_int(
                name, int(spec["low"]), int(spec["high"]), step=int(spec.get("step", 1)), log=bool(spec.get("log"))
            )
        else:
            params[name] = trial.suggest_float(
                name, float(spec["low"]), float(spec["high"]), step=spec.get("step"), log=bool(spec.get("log"))
            )
    return params
