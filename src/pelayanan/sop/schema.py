"""The JSON Schema of the SOP language: the one source of its keys, types and docs.

The loader validates every document against `SOP_SCHEMA` (with `pelayanan.sop._validate`),
``pelayanan sop schema`` prints it for editors (a YAML language server completes and checks
SOP files with it), and the key reference in ``docs/sop-language.md`` is generated from it
by `render_reference`, so the three cannot drift apart.
"""

from __future__ import annotations

import copy
from typing import Any

from pelayanan.sop.model import FIELD_TYPES

__all__ = ["NAME_PATTERN", "SOP_SCHEMA", "render_reference", "sop_json_schema"]

#: Names of states, actions, roles, fields and clocks.
NAME_PATTERN = "^[a-z][a-z0-9_]*$"

_NAME: dict[str, Any] = {"type": "string", "pattern": NAME_PATTERN}
_NAMES: dict[str, Any] = {
    "anyOf": [_NAME, {"type": "array", "items": _NAME}],
    "x-expected": "a name or a list of names",
}
_TEXT: dict[str, Any] = {"type": "string", "minLength": 1}
_DURATION_UNITS = (
    "working_days",
    "working_hours",
    "working_minutes",
    "calendar_days",
    "calendar_hours",
    "calendar_minutes",
)

#: Whom to notify: a role or unit, or a list of them.
_NOTIFY: dict[str, Any] = {
    "anyOf": [
        {"type": "string", "minLength": 1},
        {"type": "array", "items": {"type": "string", "minLength": 1}},
    ],
    "x-expected": "a role or unit, or a list of them",
}

_DEFINITIONS: dict[str, Any] = {
    "label": {
        "title": "Label",
        "description": "A label in Indonesian (`id`) and English (`en`); plain text sets both.",
        "anyOf": [
            _TEXT,
            {
                "type": "object",
                "additionalProperties": False,
                "required": ["id"],
                "properties": {
                    "id": {**_TEXT, "description": "Indonesian label."},
                    "en": {**_TEXT, "description": "English label (default: the `id` label)."},
                },
            },
        ],
        "x-expected": "text, or a mapping with 'id' and 'en'",
    },
    "legal_basis": {
        "title": "Legal basis",
        "description": "A regulation the SOP implements, with where to read it.",
        "anyOf": [
            _TEXT,
            {
                "type": "object",
                "additionalProperties": False,
                "required": ["title"],
                "properties": {
                    "title": {**_TEXT, "description": "The regulation and its title."},
                    "source": {
                        **_TEXT,
                        "description": "Where to read it: a URL, gazette number or article.",
                    },
                },
            },
        ],
        "x-expected": "text, or a mapping with 'title' and 'source'",
    },
    "state": {
        "title": "State",
        "description": "One state of the SOP, keyed by its id under `states`.",
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "label": {
                "$ref": "#/definitions/label",
                "description": "How officers see the state (default: its id).",
            },
            "final": {
                "type": "boolean",
                "description": "Requests end here; a final state has no outgoing action.",
            },
            "public_status": {
                "enum": ["open", "closed"],
                "description": "The Open311 status citizens see "
                "(default: `closed` when final, else `open`).",
            },
            "public_note": {
                "type": "string",
                "description": "What citizens are told in this state (Open311 `status_notes`).",
            },
            "parallel": {
                "type": "object",
                "propertyNames": {"pattern": NAME_PATTERN},
                "additionalProperties": {"$ref": "#/definitions/branch"},
                "minProperties": 2,
                "description": "Makes this a parallel state: branch name -> branch. Entering "
                "the state starts every branch; the request moves to `then` when each "
                "branch has reached one of its final states.",
            },
            "then": {
                **_NAME,
                "description": "With `parallel`: the state the request enters when every "
                "branch is done.",
            },
        },
    },
    "branch": {
        "title": "Branch",
        "description": "One branch of a parallel state: its own states, the unit doing the "
        "work and the roles acting in it. Actions move between a branch's states like "
        "any other action (`from` and `to` in the same branch).",
        "type": "object",
        "additionalProperties": False,
        "required": ["initial", "states"],
        "properties": {
            "label": {"type": "string", "description": "A human label."},
            "unit": {**_TEXT, "description": "The unit doing the branch's work."},
            "roles": {
                **_NAMES,
                "description": "The roles acting in the branch; its actions take no other.",
            },
            "initial": {**_NAME, "description": "The branch state entered first."},
            "states": {
                "type": "object",
                "propertyNames": {"pattern": NAME_PATTERN},
                "additionalProperties": {
                    "anyOf": [{"$ref": "#/definitions/state"}, {"type": "null"}],
                    "x-expected": "a state definition (label, final, public_note)",
                },
                "minProperties": 2,
                "description": "The branch's states (ids unique in the whole SOP); a "
                "`final` one ends the branch.",
            },
        },
    },
    "field": {
        "title": "Field",
        "description": "A request field or document, keyed by its name under `fields`.",
        "type": "object",
        "additionalProperties": False,
        "required": ["type"],
        "properties": {
            "type": {
                "enum": list(FIELD_TYPES),
                "description": "The value type; `document` is a filed document of the "
                "checklist (kelengkapan berkas), given as its document id.",
            },
            "label": {"$ref": "#/definitions/label", "description": "How forms show it."},
            "choices": {
                "type": "array",
                "items": _TEXT,
                "minItems": 1,
                "description": "The allowed values; required for `choice`, else not allowed.",
            },
            "description": {"type": "string", "description": "What the field holds."},
        },
    },
    "submit": {
        "title": "Submit",
        "description": "Who may open a request and what the submission must contain.",
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "roles": {**_NAMES, "description": "Roles allowed to submit (empty: anyone)."},
            "requires": {**_NAMES, "description": "Fields the submission must contain."},
            "route": {
                "type": "boolean",
                "description": "Whether the desk's routing rules place a new request "
                "(default: true); `false` keeps it with the SOP's unit until an action "
                "with `route` dispatches it.",
            },
        },
    },
    "action": {
        "title": "Action",
        "description": "One action: a named move from one or several states to one state.",
        "type": "object",
        "additionalProperties": False,
        "required": ["name", "from", "to", "roles"],
        "properties": {
            "name": {**_NAME, "description": "The action name officers use."},
            "label": {"$ref": "#/definitions/label", "description": "How reports show it."},
            "from": {
                "anyOf": [{"enum": ["*"]}, *_NAMES["anyOf"]],
                "x-expected": "a state, a list of states, or '*' (every non-final state)",
                "description": 'The state or states it is taken from; `"*"` is every '
                "non-final state (quote it in YAML), less those under `except`.",
            },
            "except": {
                **_NAMES,
                "description": 'With `from: "*"`: the states the action is not taken from.',
            },
            "to": {**_NAME, "description": "The state it leads to."},
            "roles": {**_NAMES, "description": "Roles allowed to take it (declared roles)."},
            "requires": {
                **_NAMES,
                "description": "Fields and documents that must be present and non-empty "
                "on the request (kelengkapan berkas) before it can be taken, and guards: "
                "`disposisi_answered` holds when every disposisi issued on the request "
                "has been answered.",
            },
            "not_by": {
                **_NAMES,
                "description": "Separation of duties: the actor may not be one who took any "
                "of these actions on the same request (`submit` names the submitter).",
            },
            "justification": {
                "type": "boolean",
                "description": "The actor must give a written justification.",
            },
            "may_change": {
                **_NAMES,
                "description": "Fields identifying the request's subject (the access "
                "policy's subject fields, personal fields of kind `nik`) that this action "
                "may change after submission; no other action may. The change is recorded "
                "with keyed commitments of the old and new values, never the values.",
            },
            "writes": {
                **_NAMES,
                "description": "The fields this action may write (default: any declared "
                "field). Data naming another field is refused, and the refusal is recorded "
                "with the field names, never their values. `pause_reason` is always allowed.",
            },
            "route": {
                "anyOf": [
                    {"enum": ["rules"]},
                    {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["field"],
                        "properties": {"field": _NAME},
                    },
                ],
                "x-expected": "'rules' or {field: <name>}",
                "description": "Move the request to another unit in the same entry as the "
                "action (a dispatch): `rules` evaluates the routing rules on the request's "
                "data; `{field: <name>}` takes the unit the field names. The unit's "
                "assignment policy picks the officer.",
            },
        },
    },
    "condition": {
        "title": "Clock condition",
        "description": "When a clock event happens: any listed action is taken, or any "
        "listed state is entered.",
        "type": "object",
        "additionalProperties": False,
        "minProperties": 1,
        "properties": {
            "on_action": {**_NAMES, "description": "Action names (`submit`: the submission)."},
            "on_enter": {**_NAMES, "description": "State ids."},
        },
    },
    "duration": {
        "title": "Duration",
        "description": "A length of time in exactly one unit, e.g. `{working_days: 3}`, "
        "or as text, e.g. `3 working days` or `10 calendar minutes`, or as an ISO 8601 "
        "duration: `P3D` is 3 calendar days, `PT10M` 10 calendar minutes, `PT1H30M` 90 "
        "calendar minutes (working units have no ISO spelling). Amounts are whole numbers "
        "of the unit (hours may be a whole number of minutes) and at most about 100 years. "
        "Working time follows the clock's calendar.",
        "anyOf": [
            {
                "type": "object",
                "additionalProperties": False,
                "minProperties": 1,
                "maxProperties": 1,
                "properties": {
                    unit: {"type": "number", "minimum": 0, "description": f"{unit}."}
                    for unit in _DURATION_UNITS
                },
            },
            {
                "type": "string",
                "pattern": r"^\s*\d+(\.\d+)?\s+(working|calendar)\s+(days?|hours?|minutes?)\s*$",
            },
            {
                "type": "string",
                "pattern": r"^\s*[Pp](\d+[Dd]|[Tt](?=\d)(\d+[Hh])?(\d+[Mm])?)\s*$",
            },
        ],
        "x-expected": "a duration such as {working_days: 3} or '8 working hours'",
    },
    "escalation": {
        "title": "Escalation step",
        "description": "One step of the escalation ladder: when it is due and what happens "
        "(at least one of `notify`, `reassign_to`, `action`).",
        "type": "object",
        "additionalProperties": False,
        "required": ["after"],
        "properties": {
            "after": {
                "anyOf": [
                    {"type": "string", "pattern": r"^\s*\d+\s*%\s*$"},
                    {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["percent"],
                        "properties": {"percent": {"type": "integer", "minimum": 1}},
                    },
                    {"$ref": "#/definitions/duration"},
                ],
                "x-expected": "a percentage of the target ('150%' or {percent: 150}) or "
                "a duration past the breach ({working_days: 2})",
                "description": "A percentage of the target elapsed (`100%` is the breach, "
                "`150%` half the target past it), or a duration past the breach.",
            },
            "notify": {**_NOTIFY, "description": "Roles to notify; write `unit:<id>` for a unit."},
            "reassign_to": {
                "type": "string",
                "minLength": 1,
                "description": "A role (or `unit:<id>`) to reassign the request to.",
            },
            "action": {
                **_NAME,
                "description": "An action the system takes (actor `system`, so the action's "
                "roles must include `system`), e.g. automatic closing.",
            },
        },
    },
    "clock": {
        "title": "Clock",
        "description": "An SLA clock. The SLA engine runs it; the SOP declares it and the "
        "loader checks every state and action it names.",
        "type": "object",
        "additionalProperties": False,
        "required": ["name", "start", "stop", "target"],
        "properties": {
            "name": {**_NAME, "description": "The clock name, unique in the SOP."},
            "label": {"$ref": "#/definitions/label", "description": "How reports show it."},
            "start": {"$ref": "#/definitions/condition", "description": "When it starts."},
            "stop": {"$ref": "#/definitions/condition", "description": "When it stops."},
            "pause": {"$ref": "#/definitions/condition", "description": "When it pauses."},
            "resume": {
                "$ref": "#/definitions/condition",
                "description": "When a paused clock resumes (required with `pause`).",
            },
            "reset": {
                "$ref": "#/definitions/condition",
                "description": "When a running clock starts over.",
            },
            "target": {"$ref": "#/definitions/duration", "description": "How long it may run."},
            "warn_at": {
                "type": "array",
                "items": {"type": "integer", "minimum": 1, "maximum": 99},
                "description": "Percentages of the target at which to warn, ascending.",
            },
            "escalation": {
                "type": "array",
                "items": {"$ref": "#/definitions/escalation"},
                "description": "The escalation ladder, in order.",
            },
            "calendar": {
                **_TEXT,
                "description": "The working calendar to count on (default: the desk's).",
            },
            "counting": {
                "enum": ["receipt-day-zero", "receipt-day-one"],
                "description": "Whether the day of receipt is day 0 (the default: N "
                "working days end at the close of the N-th working day after it) or day 1, "
                "for this clock's working-day target (default: the calendar's convention).",
            },
            "measures": {
                "enum": ["agency", "applicant", "third_party"],
                "description": "Whose time the clock measures (default `agency`). Only "
                "agency clocks count in compliance and breach attribution; an applicant's "
                "window (e.g. to correct documents) never counts against the agency.",
            },
            "notify": {
                **_NOTIFY,
                "description": "Roles to name in every warning, breach and escalation "
                "entry of this clock (and in what `tick` returns); write `unit:<id>` for a "
                "unit, or `unit` for the unit holding the request.",
            },
        },
    },
    "migration": {
        "title": "Migration",
        "description": "How requests of an earlier version of this SOP move into this one: "
        "a state mapping. Requests move only when an officer migrates them, and each move "
        "is audited.",
        "type": "object",
        "additionalProperties": False,
        "required": ["from_version", "states"],
        "properties": {
            "from_version": {**_TEXT, "description": "The earlier version."},
            "states": {
                "type": "object",
                "propertyNames": {"pattern": NAME_PATTERN},
                "additionalProperties": _NAME,
                "description": "Earlier state id -> state id in this version.",
            },
            "roles": {**_NAMES, "description": "Roles allowed to migrate (empty: anyone)."},
            "note": {"type": "string", "description": "Why, for the audit log."},
        },
    },
}

SOP_SCHEMA: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "$id": "https://pelayanan.readthedocs.io/schema/sop.json",
    "title": "SOP",
    "description": "A pelayanan SOP: metadata, roles, fields, states, actions, SLA clocks "
    "and migrations.",
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "version", "title", "unit", "roles", "initial", "states", "actions"],
    "properties": {
        "id": {
            "type": "string",
            "pattern": "^[a-z0-9][a-z0-9._-]*$",
            "description": "The SOP id, stable across versions (e.g. `pengaduan-umum`).",
        },
        "version": {
            **_TEXT,
            "description": 'The version; quote it in YAML (`"1.0.0"`). Changed content '
            "needs a new version.",
        },
        "title": {**_TEXT, "description": "The service's title."},
        "unit": {**_TEXT, "description": "The owning unit."},
        "legal_basis": {
            "type": "array",
            "items": {"$ref": "#/definitions/legal_basis"},
            "description": "The regulations it implements.",
        },
        "roles": {
            "type": "object",
            "propertyNames": {"pattern": NAME_PATTERN},
            "additionalProperties": {"type": ["string", "null"]},
            "minProperties": 1,
            "description": "Every role the SOP uses: role id -> description.",
        },
        "fields": {
            "type": "object",
            "propertyNames": {"pattern": NAME_PATTERN},
            "additionalProperties": {"$ref": "#/definitions/field"},
            "description": "The request fields and documents, with types. When present, "
            "every field an action requires must be declared here.",
        },
        "strict_fields": {
            "type": "boolean",
            "description": "With `fields` declared, refuse data naming an undeclared field "
            "(default: true); `false` stores undeclared fields untyped.",
        },
        "submit": {"$ref": "#/definitions/submit", "description": "Opening a request."},
        "initial": {**_NAME, "description": "The state a new request starts in."},
        "states": {
            "type": "object",
            "propertyNames": {"pattern": NAME_PATTERN},
            "additionalProperties": {
                "anyOf": [{"$ref": "#/definitions/state"}, {"type": "null"}],
                "x-expected": "a state definition (label, final, public_status, public_note)",
            },
            "minProperties": 1,
            "description": "The states: state id -> state.",
        },
        "actions": {
            "type": "array",
            "items": {"$ref": "#/definitions/action"},
            "minItems": 1,
            "description": "The actions.",
        },
        "clocks": {
            "type": "array",
            "items": {"$ref": "#/definitions/clock"},
            "description": "The SLA clocks.",
        },
        "migrations": {
            "type": "array",
            "items": {"$ref": "#/definitions/migration"},
            "description": "Migrations from earlier versions into this one.",
        },
        "routing": {
            "type": "object",
            "description": "Reserved for the routing configuration; kept as given, not "
            "interpreted by the SOP.",
        },
        # --- privacy: checked in detail by pelayanan.sop.personal ---
        "privacy": {
            "type": "object",
            "description": "Personal data (UU 27/2022): `fields` maps a field name to its "
            "`kind` (name, nik, phone, address, date_of_birth, text, or a specific kind of "
            "Pasal 4(2): health, biometric, genetic, criminal_record, child, financial) and "
            "optional `reveal_roles`; `reveal_roles` lists the roles that may reveal "
            "personal fields for a stated purpose, `specific_reveal_roles` those that may "
            "reveal the specific kinds (nobody when absent); `exclude_from_public` maps a "
            "field to values that keep a request out of public feeds (e.g. `{kategori: "
            "[kdrt]}`); `retention` names a retention class configured by the host app. "
            "See docs/privacy.md.",
        },
    },
    "definitions": _DEFINITIONS,
}


def sop_json_schema() -> dict[str, Any]:
    """Return a copy of the JSON Schema (draft-07) of the SOP language."""
    schema: dict[str, Any] = _public(copy.deepcopy(SOP_SCHEMA))
    return schema


def _public(node: Any) -> Any:
    """Drop the private ``x-`` keywords the validator uses for messages."""
    if isinstance(node, dict):
        return {k: _public(v) for k, v in node.items() if not str(k).startswith("x-")}
    if isinstance(node, list):
        return [_public(v) for v in node]
    return node


def _type_text(schema: dict[str, Any]) -> str:
    """Describe the type of a schema node in a few words for the reference tables."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        title = _DEFINITIONS[name]["title"]
        return f"[{title}](#{title.lower().replace(' ', '-')})"
    if "x-expected" in schema:
        return str(schema["x-expected"])
    if "enum" in schema:
        return " \\| ".join(f"`{v}`" for v in schema["enum"])
    return _kind_text(schema)


def _kind_text(schema: dict[str, Any]) -> str:
    """Describe a schema node by its ``type`` keyword (no reference, hint or enum)."""
    kind = schema.get("type")
    if kind == "array":
        return f"list of {_type_text(schema.get('items', {}))}"
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return f"mapping of name to {_type_text(schema['additionalProperties'])}"
    if kind == "string" and schema.get("pattern") == NAME_PATTERN:
        return "name"
    if isinstance(kind, list):
        return " or ".join(str(k) for k in kind)
    return str(kind or "any")


def _table(schema: dict[str, Any]) -> list[str]:
    required = set(schema.get("required", ()))
    rows = ["| key | type | required | meaning |", "| --- | --- | --- | --- |"]
    for key, sub in schema.get("properties", {}).items():
        flag = "yes" if key in required else ""
        text = str(sub.get("description", "")).replace("|", "\\|")
        rows.append(f"| `{key}` | {_type_text(sub)} | {flag} | {text} |")
    return rows


def _object_branch(schema: dict[str, Any]) -> dict[str, Any] | None:
    if schema.get("type") == "object" and "properties" in schema:
        return schema
    for branch in schema.get("anyOf", ()):
        if branch.get("type") == "object" and "properties" in branch:
            return dict(branch)
    return None


def render_reference() -> str:
    """Return the Markdown key reference of the SOP language, generated from the schema."""
    lines = [
        "### SOP document",
        "",
        str(SOP_SCHEMA["description"]),
        "",
        *_table(SOP_SCHEMA),
    ]
    for definition in _DEFINITIONS.values():
        lines += ["", f"### {definition['title']}", "", str(definition["description"]), ""]
        branch = _object_branch(definition)
        if branch is not None:
            lines += _table(branch)
        else:
            lines.append(f"Written as {_type_text(definition)}.")
    return "\n".join(lines) + "\n"
