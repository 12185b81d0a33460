"""SOP loading: load, validate and compile an SOP of 50 states and 200 actions.

The figure is the time of ``load_sop`` (parse with line numbers, schema, cattrs, static
checks, hash) plus compiling the python-statemachine class, against parsing the same
file's YAML alone (``yaml.load`` with the same loader class) in the same run.  Target:
at most 5x.  A second figure does the same for an SOP of 50 states of which nine sit in
the three branches of a parallel state (compiled to parallel and compound states).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from pelayanan.sop import compile_sop, load_sop
from pelayanan.sop.compile import CompiledSOP

_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _document(states: int = 50, actions: int = 200) -> dict[str, Any]:
    names = [f"s{i:02d}" for i in range(states)]
    final = names[-1]
    acts = []
    for i in range(actions):
        source = names[i % (states - 1)]
        here = i % (states - 1)
        # Mostly forward by one or two states, sometimes back one: a realistic mesh.
        step = -1 if i % 7 == 3 else 1 + (i // (states - 1)) % 2
        target = names[min(max(here + step, 0), states - 1)]
        acts.append(
            {
                "name": f"act_{i:03d}",
                "label": f"Action {i}",
                "from": [source],
                "to": target,
                "roles": ["officer", "head"][: 1 + i % 2],
                "requires": [f"f{i % 10}"],
                "not_by": ["submit"] if i % 3 == 0 else [],
                "justification": i % 5 == 0,
            }
        )
    return {
        "id": "besar",
        "version": "1",
        "title": "A large SOP",
        "unit": "unit",
        "roles": {"officer": "Petugas", "head": "Kepala", "citizen": "Warga"},
        "fields": {
            f"f{i}": {"type": "text", "label": {"id": f"F{i}", "en": f"F{i}"}} for i in range(10)
        },
        "submit": {"roles": ["citizen"], "requires": ["f0"]},
        "initial": names[0],
        "states": {
            n: {"label": {"id": n.upper(), "en": n}, "final": n == final, "public_note": f"In {n}"}
            for n in names
        },
        "actions": acts,
        "clocks": [
            {
                "name": f"c{i}",
                "start": {"on_enter": [names[i]]},
                "stop": {"on_enter": [names[i + 5]]},
                "target": {"working_days": 3},
                "warn_at": [50, 75],
                "escalation": [{"after": "100%", "notify": ["head"]}],
            }
            for i in range(10)
        ],
    }


def _parallel_document() -> dict[str, Any]:
    """Return an SOP of 50 states: 41 top-level, one of them parallel with 3 branches of 3."""
    doc = _document(states=41, actions=160)
    branches = {}
    for b in range(3):
        names = [f"p{b}_{k}" for k in range(3)]
        branches[f"b{b}"] = {
            "label": f"Branch {b}",
            "unit": f"unit-{b}",
            "roles": ["officer", "head"],
            "initial": names[0],
            "states": {
                n: {"label": {"id": n.upper(), "en": n}, "final": k == 2}
                for k, n in enumerate(names)
            },
        }
        doc["actions"] += [
            {"name": f"b{b}_step{k}", "from": names[k], "to": names[k + 1], "roles": ["officer"]}
            for k in range(2)
        ]
    doc["states"]["s20"] = {
        **doc["states"]["s20"],
        "parallel": branches,
        "then": "s21",
    }
    return doc


def _best(fn: Any, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def run(quick: bool = False) -> list[dict[str, object]]:
    """Return the load+validate+compile times against parsing the YAML alone."""
    repeat = 3 if quick else 15
    rows = [_measure(_document(), "50 states / 200 actions", repeat)]
    rows.append(
        _measure(_parallel_document(), "50 states with a parallel state of 3 branches", repeat)
    )
    return rows


def _measure(document: dict[str, Any], what: str, repeat: int) -> dict[str, object]:
    """Return the row of one SOP: load + validate + compile against the YAML parse."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "besar.yaml"
        path.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True))
        text = path.read_text()

        def parse() -> None:
            yaml.load(path.read_text(), Loader=_LOADER)

        def full() -> None:
            # CompiledSOP directly: compile_sop caches by hash, which would hide the cost.
            CompiledSOP(load_sop(path))

        sop = load_sop(path)
        assert len(sop.states) == 50
        compile_sop(sop)
        baseline = _best(parse, repeat)
        value = _best(full, repeat)
    return {
        "figure": f"load + validate + compile, {what}",
        "value": value * 1e3,
        "unit": "ms",
        "baseline": "yaml.load of the same file",
        "baseline_value": baseline * 1e3,
        "ratio": value / baseline,
        "target": "<= 5x",
        "note": f"{len(text)} bytes of YAML, {len(sop.actions)} actions; loader {_LOADER.__name__}",
    }
