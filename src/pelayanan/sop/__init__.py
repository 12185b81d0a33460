"""SOPs as configuration: the model, loaders, static checks, versions and compilation."""

from __future__ import annotations

from pelayanan.sop.compile import CompiledSOP, compile_sop
from pelayanan.sop.diagram import to_dot, to_mermaid
from pelayanan.sop.loader import canonical_form, load_sop, sop_from_dict
from pelayanan.sop.model import (
    SOP,
    ActionDef,
    ClockCondition,
    ClockDef,
    EscalationStep,
    FieldDef,
    LegalBasis,
    Migration,
    MigrationDef,
    StateDef,
    SubmitDef,
)
from pelayanan.sop.registry import SOPRegistry
from pelayanan.sop.schema import render_reference, sop_json_schema

__all__ = [
    "SOP",
    "ActionDef",
    "ClockCondition",
    "ClockDef",
    "CompiledSOP",
    "EscalationStep",
    "FieldDef",
    "LegalBasis",
    "Migration",
    "MigrationDef",
    "SOPRegistry",
    "StateDef",
    "SubmitDef",
    "canonical_form",
    "compile_sop",
    "load_sop",
    "render_reference",
    "sop_from_dict",
    "sop_json_schema",
    "to_dot",
    "to_mermaid",
]
