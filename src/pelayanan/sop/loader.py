"""Load SOP definitions from YAML, TOML, JSON or a dict, collecting every problem.

Each problem names the file, the line (for YAML) and the key path, and says how to fix
it; all of them are raised together as one `SOPDefinitionError`.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from pelayanan.audit.canonical import canonical_json
from pelayanan.exceptions import CanonicalEncodingError, Problem, SOPDefinitionError
from pelayanan.sop.checks import check_graph
from pelayanan.sop.model import SOP, ActionDef, StateDef, SubmitDef

__all__ = ["load_sop", "sop_from_dict"]

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_TOP_KEYS = (
    "id", "version", "title", "unit", "legal_basis", "roles", "initial", "states", "actions",
    "submit",
)  # fmt: skip
_STATE_KEYS = ("label", "final", "public_status", "public_note")
_ACTION_KEYS = (
    "name", "from", "to", "roles", "requires", "not_by", "justification", "label",
)  # fmt: skip
_SUBMIT_KEYS = ("roles", "requires")


class _Collector:
    def __init__(self, source: str | None, lines: Mapping[str, int]) -> None:
        self.source = source
        self.lines = lines
        self.problems: list[Problem] = []

    def add(self, path: str, message: str) -> None:
        line = self.lines.get(path)
        if line is None:
            # Fall back to the nearest enclosing key that has a known line.
            parent = path
            while line is None and parent:
                parent = re.sub(r"(\.[^.\[]*|\[\d+\])$", "", parent)
                line = self.lines.get(parent)
        self.problems.append(Problem(path, message, self.source, line))

    def unknown_keys(self, mapping: Mapping[str, Any], allowed: tuple[str, ...], path: str) -> None:
        for key in mapping:
            if key not in allowed:
                hint = difflib.get_close_matches(str(key), allowed, n=1)
                suggestion = f"; did you mean {hint[0]!r}?" if hint else ""
                where = f"{path}.{key}" if path else str(key)
                self.add(where, f"unknown key {key!r}{suggestion}")


def _yaml_lines(text: str) -> dict[str, int]:
    """Map key paths (``actions[2].roles``) to 1-based line numbers."""
    lines: dict[str, int] = {}
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return lines

    def walk(node: yaml.Node, path: str) -> None:
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                key = str(key_node.value)
                child = f"{path}.{key}" if path else key
                lines[child] = key_node.start_mark.line + 1
                walk(value_node, child)
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                child = f"{path}[{index}]"
                lines[child] = item.start_mark.line + 1
                walk(item, child)

    if root is not None:
        walk(root, "")
    return lines


def load_sop(path: str | Path) -> SOP:
    """Load and validate the SOP in *path* (``.yaml``/``.yml``, ``.toml`` or ``.json``).

    Raises:
        SOPDefinitionError: the file cannot be read or parsed, or the SOP is invalid;
            ``problems`` lists every problem found.
    """
    file = Path(path)
    source = str(path)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SOPDefinitionError([Problem("", f"cannot read file: {exc}", source, None)]) from None
    suffix = file.suffix.lower()
    lines: dict[str, int] = {}
    try:
        if suffix in {".yaml", ".yml"}:
            data = yaml.safe_load(text)
            lines = _yaml_lines(text)
        elif suffix == ".toml":
            data = tomllib.loads(text)
        elif suffix == ".json":
            data = json.loads(text)
        else:
            msg = f"unknown file type {suffix!r}: use .yaml, .yml, .toml or .json"
            raise SOPDefinitionError([Problem("", msg, source, None)])
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise SOPDefinitionError([Problem("", f"invalid YAML: {exc}", source, line)]) from None
    except tomllib.TOMLDecodeError as exc:
        raise SOPDefinitionError([Problem("", f"invalid TOML: {exc}", source, None)]) from None
    except json.JSONDecodeError as exc:
        raise SOPDefinitionError(
            [Problem("", f"invalid JSON: {exc.msg}", source, exc.lineno)]
        ) from None
    return sop_from_dict(data, source=source, lines=lines)


def _str_list(value: Any, path: str, out: _Collector) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    out.add(path, "must be a name or a list of names")
    return ()


def _text(value: Any, path: str, out: _Collector, *, required: bool = True) -> str:
    if value is None and not required:
        return ""
    if isinstance(value, str) and value.strip():
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    out.add(path, "is required and must be a non-empty string" if required else "must be text")
    return ""


def sop_from_dict(
    data: Any, *, source: str | None = None, lines: Mapping[str, int] | None = None
) -> SOP:
    """Validate a plain mapping as an SOP.

    Args:
        data: the parsed document.
        source: the file it came from, for messages.
        lines: key path -> line number, for messages.

    Raises:
        SOPDefinitionError: the definition is invalid (every problem listed).
    """
    out = _Collector(source, lines or {})
    if not isinstance(data, Mapping):
        out.add("", "an SOP must be a mapping with id, version, states and actions")
        raise SOPDefinitionError(out.problems)
    out.unknown_keys(data, _TOP_KEYS, "")
    sop_id = _text(data.get("id"), "id", out)
    version = _text(data.get("version"), "version", out)
    title = _text(data.get("title"), "title", out)
    unit = _text(data.get("unit"), "unit", out)
    legal_basis = _str_list(data.get("legal_basis"), "legal_basis", out)

    roles_raw = data.get("roles")
    roles: dict[str, str] = {}
    if isinstance(roles_raw, Mapping):
        roles = {str(k): str(v or "") for k, v in roles_raw.items()}
    elif isinstance(roles_raw, list):
        roles = {str(k): "" for k in roles_raw}
    else:
        out.add("roles", "declare the roles as a mapping of role id to description")

    states: list[StateDef] = []
    states_raw = data.get("states")
    if not isinstance(states_raw, Mapping) or not states_raw:
        out.add("states", "declare the states as a mapping of state id to its definition")
        states_raw = {}
    for state_id, raw_spec in states_raw.items():
        path = f"states.{state_id}"
        if not isinstance(state_id, str) or not _NAME.match(state_id):
            out.add(path, "state ids are lower-case names: letters, digits, underscores")
            continue
        spec = raw_spec if raw_spec is not None else {}
        if not isinstance(spec, Mapping):
            out.add(path, "must be a mapping (label, final, public_status, public_note)")
            continue
        out.unknown_keys(spec, _STATE_KEYS, path)
        label = spec.get("label", {})
        label_id = label_en = state_id
        if isinstance(label, str):
            label_id = label_en = label
        elif isinstance(label, Mapping):
            label_id = str(label.get("id", state_id))
            label_en = str(label.get("en", label_id))
        else:
            out.add(f"{path}.label", "must be text or a mapping with 'id' and 'en'")
        final = spec.get("final", False)
        if not isinstance(final, bool):
            out.add(f"{path}.final", "must be true or false")
            final = False
        public_status = spec.get("public_status", "closed" if final else "open")
        if public_status not in ("open", "closed"):
            out.add(f"{path}.public_status", "must be 'open' or 'closed' (Open311 status)")
            public_status = "open"
        note = _text(spec.get("public_note"), f"{path}.public_note", out, required=False)
        states.append(StateDef(state_id, label_id, label_en, final, public_status, note))
    state_ids = {s.id for s in states}

    initial = _text(data.get("initial"), "initial", out)
    if initial and state_ids and initial not in state_ids:
        out.add("initial", f"state {initial!r} is not defined under states")

    submit_raw = data.get("submit") or {}
    submit = SubmitDef()
    if isinstance(submit_raw, Mapping):
        out.unknown_keys(submit_raw, _SUBMIT_KEYS, "submit")
        submit = SubmitDef(
            _str_list(submit_raw.get("roles"), "submit.roles", out),
            _str_list(submit_raw.get("requires"), "submit.requires", out),
        )
    else:
        out.add("submit", "must be a mapping with 'roles' and 'requires'")
    for role in submit.roles:
        if roles and role not in roles:
            out.add("submit.roles", f"role {role!r} is not declared under roles")

    actions: list[ActionDef] = []
    actions_raw = data.get("actions")
    if not isinstance(actions_raw, list) or not actions_raw:
        out.add("actions", "declare the actions as a list")
        actions_raw = []
    for index, spec in enumerate(actions_raw):
        path = f"actions[{index}]"
        if not isinstance(spec, Mapping):
            out.add(path, "must be a mapping (name, from, to, roles, ...)")
            continue
        out.unknown_keys(spec, _ACTION_KEYS, path)
        name = _text(spec.get("name"), f"{path}.name", out)
        if name and not _NAME.match(name):
            out.add(f"{path}.name", "action names are lower-case names: letters, digits, _")
        sources = _str_list(spec.get("from"), f"{path}.from", out)
        if not sources:
            out.add(f"{path}.from", "name the state(s) this action is taken from")
        target = _text(spec.get("to"), f"{path}.to", out)
        for source_state in sources:
            if state_ids and source_state not in state_ids:
                out.add(f"{path}.from", f"state {source_state!r} is not defined under states")
        if target and state_ids and target not in state_ids:
            out.add(f"{path}.to", f"state {target!r} is not defined under states")
        action_roles = _str_list(spec.get("roles"), f"{path}.roles", out)
        if not action_roles:
            out.add(f"{path}.roles", "name the roles allowed to take this action")
        for role in action_roles:
            if roles and role not in roles:
                out.add(f"{path}.roles", f"role {role!r} is not declared under roles")
        justification = spec.get("justification", False)
        if not isinstance(justification, bool):
            out.add(f"{path}.justification", "must be true or false")
            justification = False
        actions.append(
            ActionDef(
                name=name,
                sources=sources,
                target=target,
                roles=action_roles,
                requires=_str_list(spec.get("requires"), f"{path}.requires", out),
                not_by=_str_list(spec.get("not_by"), f"{path}.not_by", out),
                justification=justification,
                label=_text(spec.get("label"), f"{path}.label", out, required=False),
            )
        )
    action_names = {a.name for a in actions} | {"submit"}
    for index, action in enumerate(actions):
        for other in action.not_by:
            if other not in action_names:
                out.add(f"actions[{index}].not_by", f"action {other!r} is not defined")

    if not out.problems:
        for path, message in check_graph(initial, states, actions):
            out.add(path, message)
    if out.problems:
        raise SOPDefinitionError(out.problems)
    try:
        content_hash = hashlib.sha256(canonical_json(data)).hexdigest()
    except CanonicalEncodingError as exc:
        out.add("", f"the definition cannot be hashed canonically: {exc}")
        raise SOPDefinitionError(out.problems) from None
    return SOP(
        id=sop_id,
        version=version,
        title=title,
        unit=unit,
        legal_basis=legal_basis,
        roles=roles,
        initial=initial,
        states=tuple(states),
        actions=tuple(actions),
        submit=submit,
        content_hash=content_hash,
        source=source,
    )
