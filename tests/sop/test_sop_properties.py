"""Property tests: the compiled machine is the SOP, and bad input only yields SOP errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from pelayanan.exceptions import SOPDefinitionError, TransitionNotAllowedError
from pelayanan.sop import compile_sop, load_sop, sop_from_dict
from pelayanan.sop.model import SOP

STATE_NAMES = [f"s{i}" for i in range(7)]
ACTION_NAMES = ["a", "b", "c", "d", "e", "f", "g", "h"]


@st.composite
def sop_documents(draw: st.DrawFn) -> dict[str, Any]:
    """Draw a valid SOP document over a random graph.

    Every state is reached from an earlier non-final state, every non-final state has an
    action to a final state, and random extra actions (several sources, shared names) are
    added without repeating a name from one state.
    """
    count = draw(st.integers(2, len(STATE_NAMES)))
    names = STATE_NAMES[:count]
    finals = draw(st.sets(st.sampled_from(names[1:]), min_size=1))
    finals.add(names[-1])
    open_states = [n for n in names if n not in finals]
    used: set[tuple[str, str]] = set()
    edges: list[tuple[list[str], str]] = []
    for index, name in enumerate(names[1:], start=1):
        edges.append(
            ([draw(st.sampled_from([n for n in open_states if names.index(n) < index]))], name)
        )
    edges.extend(([n], draw(st.sampled_from(sorted(finals)))) for n in open_states)
    for _ in range(draw(st.integers(0, 10))):
        sources = draw(st.lists(st.sampled_from(open_states), min_size=1, max_size=3, unique=True))
        edges.append((sources, draw(st.sampled_from(names))))
    actions = []
    for sources, target in edges:
        free = [a for a in ACTION_NAMES if all((a, s) not in used for s in sources)]
        if not free:
            continue
        name = draw(st.sampled_from(free))
        used.update((name, s) for s in sources)
        actions.append({"name": name, "from": sources, "to": target, "roles": ["r"]})
    return {
        "id": "gen",
        "version": "1",
        "title": "generated",
        "unit": "u",
        "roles": {"r": "role"},
        "initial": names[0],
        "states": {n: {"final": n in finals} for n in names},
        "actions": actions,
    }


def reference_step(sop: SOP, state: str, action: str) -> str | None:
    """Interpret the SOP plainly: the target of *action* from *state*, or None."""
    for spec in sop.actions:
        if spec.name == action and state in spec.sources:
            return spec.target
    return None


class TestCompiledMachine:
    @settings(suppress_health_check=[HealthCheck.filter_too_much])
    @given(doc=sop_documents(), walk=st.lists(st.sampled_from(ACTION_NAMES), max_size=25))
    def test_machine_matches_reference(self, doc: dict[str, Any], walk: list[str]) -> None:
        """For random SOPs and action sequences the machine answers as the SOP reads."""
        try:
            sop = sop_from_dict(doc)
        except SOPDefinitionError:
            assume(False)
            raise
        compiled = compile_sop(sop)
        state = sop.initial
        for action in walk:
            expected = reference_step(sop, state, action)
            allowed_ref = sorted({a.name for a in sop.actions_from(state)})
            assert compiled.allowed(state) == allowed_ref
            if expected is None:
                with pytest.raises(TransitionNotAllowedError):
                    compiled.fire(state, action)
            else:
                assert compiled.fire(state, action) == expected
                state = expected


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
_KEYS = st.sampled_from(
    [
        "id",
        "version",
        "title",
        "unit",
        "roles",
        "initial",
        "states",
        "actions",
        "clocks",
        "fields",
        "submit",
        "migrations",
        "routing",
        "legal_basis",
        "name",
        "from",
        "to",
        "final",
        "label",
        "target",
        "start",
        "stop",
        "after",
        "escalation",
        "on_action",
    ]
)
_SOPISH = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-5, 200)
    | st.text(max_size=6)
    | st.sampled_from(["s0", "r", "3 working days", "100%"]),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(_KEYS | st.text(max_size=4), inner, max_size=6)
    ),
    max_leaves=30,
)


class TestFuzz:
    @given(doc=_JSON | _SOPISH)
    def test_random_documents_only_raise_sop_errors(self, doc: Any) -> None:
        """Random documents either load or raise SOPDefinitionError, never anything else."""
        try:
            sop_from_dict(doc)
        except SOPDefinitionError as exc:
            problems = exc.problems
            assert problems

    @given(
        edit=st.tuples(st.sampled_from(["title", "states", "actions", "clocks", "roles"]), _SOPISH)
    )
    def test_mutated_example_only_raises_sop_errors(self, edit: tuple[str, Any]) -> None:
        """Replacing one section of a real SOP with junk yields only SOP errors."""
        path = Path(__file__).resolve().parents[2] / "examples" / "sop" / "cuti-tahunan.json"
        doc = json.loads(path.read_text())
        doc[edit[0]] = edit[1]
        try:
            sop_from_dict(doc)
        except SOPDefinitionError as exc:
            problems = exc.problems
            assert problems

    @given(text=st.text(max_size=200), suffix=st.sampled_from([".yaml", ".json", ".toml"]))
    def test_random_files_only_raise_sop_errors(
        self, tmp_path_factory: pytest.TempPathFactory, text: str, suffix: str
    ) -> None:
        """Random file contents in every format yield only SOPDefinitionError."""
        path = tmp_path_factory.mktemp("fuzz") / f"s{suffix}"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            load_sop(path)
        except SOPDefinitionError as exc:
            problems = exc.problems
            assert problems
