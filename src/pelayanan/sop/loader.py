"""Load SOP definitions from YAML, TOML, JSON or a dict, collecting every problem.

Loading runs in three passes, and every problem of every pass is reported together as one
`SOPDefinitionError` whose problems read ``FILE:LINE: KEY.PATH: message``:

1. the document is checked against the JSON Schema of the language
   (`pelayanan.sop.schema`): types, required keys, unknown keys with a "did you mean";
2. it is normalised (short forms such as ``from: received`` become lists) and structured
   into the frozen attrs classes of `pelayanan.sop.model` with cattrs;
3. the static checks of `pelayanan.sop.checks` run on the model (references, roles,
   reachability, ways out, paths to a final state, clocks, migrations).

The content hash is the SHA-256 of the canonical JSON of the structured model (not of
the file), so the same SOP written in YAML, TOML or JSON has one hash.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
import cattrs

from pelayanan._config import Problems, read_config_file
from pelayanan._config import parse_document as _parse_document
from pelayanan.audit.canonical import canonical_json
from pelayanan.calendar import Duration
from pelayanan.exceptions import CalendarError, CanonicalEncodingError, SOPDefinitionError
from pelayanan.sop._clocks import read_clocks
from pelayanan.sop._validate import validate
from pelayanan.sop.checks import check_sop
from pelayanan.sop.model import SOP
from pelayanan.sop.personal import PrivacyPolicy, parse_privacy
from pelayanan.sop.schema import SOP_SCHEMA

__all__ = ["canonical_form", "load_sop", "parse_document", "sop_from_dict"]

_CONVERTER = cattrs.Converter(forbid_extra_keys=True)
_CONVERTER.register_structure_hook(
    Duration, lambda value, _: value if isinstance(value, Duration) else Duration.from_config(value)
)
_CONVERTER.register_unstructure_hook(Duration, str)
_CONVERTER.register_structure_hook_func(
    lambda kind: kind == Mapping[str, object], lambda value, _: dict(value)
)
_CONVERTER.register_unstructure_hook_func(lambda kind: kind == Mapping[str, object], dict)


def parse_document(text: str, *, suffix: str, source: str) -> tuple[Any, dict[str, int]]:
    """Parse *text* as YAML, TOML or JSON by *suffix*; return the data and key lines.

    Raises:
        SOPDefinitionError: the text does not parse, or the suffix is unknown.
    """
    return _parse_document(text, suffix=suffix, source=source, error=SOPDefinitionError)


def load_sop(path: str | Path) -> SOP:
    """Load and validate the SOP in *path* (``.yaml``/``.yml``, ``.toml`` or ``.json``).

    Raises:
        SOPDefinitionError: the file cannot be read or parsed, or the SOP is invalid;
            ``problems`` lists every problem found.
    """
    data, lines = read_config_file(path, error=SOPDefinitionError)
    return sop_from_dict(data, source=str(path), lines=lines)


# --- normalisation: short forms to the model's shape, tolerating what the schema refused ---


def _names(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [v for v in value if isinstance(v, str)]
    return []


def _str(value: Any, default: str = "") -> str:
    return value if isinstance(value, str) else default


def _label(value: Any, default: str) -> tuple[str, str]:
    if isinstance(value, str) and value.strip():
        return value, value
    if isinstance(value, Mapping):
        label_id = _str(value.get("id"), default) or default
        return label_id, _str(value.get("en"), label_id) or label_id
    return default, default


def _one_or_two_labels(value: Any) -> dict[str, str]:
    """Return ``label`` (and ``label_en`` when it differs) of an action or a clock."""
    label, label_en = _label(value, "")
    return {"label": label, "label_en": "" if label_en == label else label_en}


def _map(value: Any) -> Mapping[Any, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _condition(value: Any) -> dict[str, list[str]] | None:
    if not isinstance(value, Mapping):
        return None
    return {"on_action": _names(value.get("on_action")), "on_enter": _names(value.get("on_enter"))}


def _normalize(data: Mapping[str, Any]) -> dict[str, Any]:
    """Return *data* in the exact shape of `SOP`'s attributes (clocks are read apart)."""
    states = []
    parallel = []
    for state_id, raw in _map(data.get("states")).items():
        states.append(_state(str(state_id), _map(raw), None))
        branches = []
        for name, branch_raw in _map(_map(raw).get("parallel")).items():
            branch = _map(branch_raw)
            inner = [
                _state(str(i), _map(r), str(name)) for i, r in _map(branch.get("states")).items()
            ]
            states.extend(inner)
            unit = branch.get("unit")
            branches.append(
                {
                    "name": str(name),
                    "label": _str(branch.get("label"), str(name)),
                    "initial": _str(branch.get("initial")),
                    "states": [str(i["id"]) for i in inner],
                    "unit": unit if isinstance(unit, str) else None,
                    "roles": _names(branch.get("roles")),
                }
            )
        if branches:
            then = _str(_map(raw).get("then"))
            parallel.append({"state": str(state_id), "branches": branches, "then": then})
    open_states = [str(s["id"]) for s in states if s["final"] is not True and not s["branch"]]
    actions = []
    for raw in _list(data.get("actions")):
        spec = _map(raw)
        writes = spec.get("writes")
        actions.append(
            {
                "name": _str(spec.get("name")),
                "sources": _sources(spec, open_states),
                "target": _str(spec.get("to")),
                "roles": _names(spec.get("roles")),
                "requires": _names(spec.get("requires")),
                "not_by": _names(spec.get("not_by")),
                "justification": spec.get("justification") is True,
                **_one_or_two_labels(spec.get("label")),
                "may_change": _names(spec.get("may_change")),
                "writes": None if writes is None else _names(writes),
                "route": _route(spec.get("route")),
            }
        )
    fields = []
    for name, raw in _map(data.get("fields")).items():
        spec = _map(raw)
        label_id, label_en = _label(spec.get("label"), str(name))
        fields.append(
            {
                "name": str(name),
                "type": _str(spec.get("type"), "text"),
                "label_id": label_id,
                "label_en": label_en,
                "choices": [c for c in _list(spec.get("choices")) if isinstance(c, str)],
                "description": _str(spec.get("description")),
            }
        )
    migrations = [
        {
            "from_version": _str(_map(raw).get("from_version")),
            "states": {
                str(k): v for k, v in _map(_map(raw).get("states")).items() if isinstance(v, str)
            },
            "roles": _names(_map(raw).get("roles")),
            "note": _str(_map(raw).get("note")),
        }
        for raw in _list(data.get("migrations"))
    ]
    legal_basis = []
    for raw in _list(data.get("legal_basis")):
        if isinstance(raw, Mapping):
            legal_basis.append({"title": _str(raw.get("title")), "source": _str(raw.get("source"))})
        elif isinstance(raw, str):
            legal_basis.append({"title": raw, "source": ""})
    submit = _map(data.get("submit"))
    return {
        "id": _str(data.get("id")),
        "version": _str(data.get("version")),
        "title": _str(data.get("title")),
        "unit": _str(data.get("unit")),
        "legal_basis": legal_basis,
        "roles": {str(k): _str(v) for k, v in _map(data.get("roles")).items()},
        "initial": _str(data.get("initial")),
        "states": states,
        "actions": actions,
        "submit": {
            "roles": _names(submit.get("roles")),
            "requires": _names(submit.get("requires")),
            "route": submit.get("route") is not False,
        },
        "content_hash": "",
        "fields": fields,
        "clocks": [],
        "migrations": migrations,
        "routing": dict(_map(data.get("routing"))),
        "strict_fields": data.get("strict_fields") is not False,
        "parallel": parallel,
    }


def _state(state_id: str, spec: Mapping[str, Any], branch: str | None) -> dict[str, Any]:
    """Return one state in the model's shape (*branch*: the branch holding it, if any)."""
    label_id, label_en = _label(spec.get("label"), state_id)
    final = spec.get("final") is True
    status = spec.get("public_status")
    return {
        "id": state_id,
        "label_id": label_id,
        "label_en": label_en,
        "final": final,
        "public_status": status
        if status in ("open", "closed")
        else ("closed" if final and branch is None else "open"),
        "public_note": _str(spec.get("public_note")),
        "branch": branch,
    }


def _sources(spec: Mapping[str, Any], open_states: list[str]) -> list[str]:
    """Return the states an action is taken from: ``"*"`` is every non-final one."""
    if spec.get("from") != "*":
        return _names(spec.get("from"))
    excluded = set(_names(spec.get("except")))
    return [state for state in open_states if state not in excluded]


def _except_problems(data: Mapping[str, Any], states: set[str]) -> list[tuple[str, str]]:
    """Return the problems of ``except`` lists: only with ``from: "*"``, naming states."""
    found = []
    for index, raw in enumerate(_list(data.get("actions"))):
        spec, path = _map(raw), f"actions[{index}].except"
        if "except" not in spec:
            continue
        if spec.get("from") != "*":
            found.append((path, "'except' goes with from: \"*\"; list the states instead"))
            continue
        found.extend(
            (path, f"state {name!r} is not defined under states")
            for name in _names(spec.get("except"))
            if name not in states
        )
    return found


def _parallel_shape_problems(data: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Return what the schema cannot say of parallel states: one level, unique state ids."""
    found = []
    seen = {str(k) for k in _map(data.get("states"))}
    for state_id, raw in _map(data.get("states")).items():
        spec, path = _map(raw), f"states.{state_id}"
        if "then" in spec and "parallel" not in spec:
            found.append((f"{path}.then", "'then' goes with 'parallel'; use an action instead"))
        for name, branch in _map(spec.get("parallel")).items():
            for inner_id, inner in _map(_map(branch).get("states")).items():
                inner_path = f"{path}.parallel.{name}.states.{inner_id}"
                if str(inner_id) in seen:
                    found.append((inner_path, f"state id {inner_id!r} is used twice: rename one"))
                seen.add(str(inner_id))
                if "parallel" in _map(inner):
                    found.append((f"{inner_path}.parallel", "branches do not nest: flatten it"))
    return found


def _route(value: Any) -> str | None:
    """Return an action's ``route`` as the model spells it (``rules``, ``field:<name>``)."""
    if value == "rules":
        return "rules"
    if isinstance(value, Mapping) and isinstance(value.get("field"), str):
        return f"field:{value['field']}"
    return None


def canonical_form(sop: SOP) -> dict[str, Any]:
    """Return the canonical form of *sop*: its model as plain data, without hash or source.

    States and fields are sorted by id (their order in a mapping means nothing); lists
    keep their order.  The content hash is the SHA-256 of this form's canonical JSON.
    """
    form: dict[str, Any] = _CONVERTER.unstructure(sop)
    form.pop("content_hash", None)
    form.pop("source", None)
    # States and fields are mappings in the document: their order carries no meaning.
    form["states"] = sorted(form["states"], key=lambda s: str(s["id"]))
    form["fields"] = sorted(form["fields"], key=lambda f: str(f["name"]))
    # Keys left at their defaults are left out, so an SOP keeps the hash it had before
    # they existed (``writes: []``, "writes nothing", is not a default and is kept).
    _drop_defaults([form], {"strict_fields": True, "parallel": []})
    _drop_defaults([form["submit"]], {"route": True})
    _drop_defaults(form["actions"], {"may_change": [], "writes": None, "route": None})
    _drop_defaults(form["states"], {"branch": None})
    _drop_defaults(form["clocks"], {"counting": None, "measures": "agency", "notify": []})
    # An action or clock with one label keeps the hash it had before English labels.
    for item in (*form["actions"], *form.get("clocks", ())):
        if not item.get("label_en"):
            item.pop("label_en", None)
    # An SOP without a privacy section keeps the hash it had before the section existed,
    # and one without the later keys the hash it had before they existed.
    if sop.privacy == PrivacyPolicy():
        form.pop("privacy", None)
    else:
        for key in ("specific_reveal_roles", "exclude_from_public"):
            if not form["privacy"].get(key):
                form["privacy"].pop(key, None)
    return form


def _drop_defaults(items: list[dict[str, Any]], defaults: Mapping[str, Any]) -> None:
    """Remove from each of *items* the keys whose value is the default given for them."""
    for item in items:
        for key, default in defaults.items():
            if key in item and item[key] == default:
                del item[key]


def sop_from_dict(
    data: Any, *, source: str | None = None, lines: Mapping[str, int] | None = None
) -> SOP:
    """Validate a plain mapping as an SOP.

    Args:
        data: the parsed document.
        source: the file it came from, for messages.
        lines: key path -> line number, for messages.

    Returns:
        The validated SOP, with its content hash.

    Raises:
        SOPDefinitionError: the definition is invalid (every problem listed).
    """
    problems = Problems(source=source, lines=lines)
    if not isinstance(data, Mapping):
        problems.add("", "an SOP must be a mapping with id, version, states and actions")
        raise SOPDefinitionError(problems.items)
    # The clocks section has one reader, shared with the SLA engine; the schema's word on
    # it would only repeat that reader's problems.
    schema_problems = [
        (path, message)
        for path, message in validate(data, SOP_SCHEMA)
        if path != "clocks" and not path.startswith(("clocks.", "clocks["))
    ]
    for path, message in schema_problems:
        problems.add(path, message)
    clocks = read_clocks(data["clocks"], "clocks", problems) if "clocks" in data else ()
    normalized = _normalize(data)
    # --- privacy: the `privacy` section, validated by pelayanan.sop.personal ---
    privacy = parse_privacy(data.get("privacy"), roles=normalized["roles"], add=problems.add)
    try:
        sop = attrs.evolve(_CONVERTER.structure(normalized, SOP), clocks=clocks, privacy=privacy)
    except (cattrs.BaseValidationError, CalendarError, TypeError, ValueError) as exc:
        # The normalised shape is built to fit the model; this is a last line of defence.
        details = cattrs.transform_error(exc) if isinstance(exc, cattrs.BaseValidationError) else []
        for detail in details or [str(exc)]:
            problems.add("", f"cannot build the SOP model: {detail}")
        raise SOPDefinitionError(problems.items) from None
    # Graph checks on a structure the schema refused would report echoes of that problem.
    broken = {p.split(".")[0].split("[")[0] for p, _ in schema_problems}
    for path, message in check_sop(sop, graph=not broken & {"states", "actions", "initial"}):
        problems.add(path, message)
    for path, message in _except_problems(data, {s.id for s in sop.states}):
        problems.add(path, message)
    for path, message in _parallel_shape_problems(data):
        problems.add(path, message)
    if problems.items:
        raise SOPDefinitionError(problems.items)
    try:
        content_hash = hashlib.sha256(canonical_json(canonical_form(sop))).hexdigest()
    except (CanonicalEncodingError, RecursionError) as exc:
        problems.add("", f"the definition cannot be hashed canonically: {exc}")
        raise SOPDefinitionError(problems.items) from None
    return attrs.evolve(sop, content_hash=content_hash, source=source)
