"""SOPs as configuration: the model, loaders, static checks, versions and compilation."""

from __future__ import annotations

from pelayanan.sop.compile import CompiledSOP, compile_sop
from pelayanan.sop.loader import load_sop, sop_from_dict
from pelayanan.sop.model import SOP, ActionDef, StateDef, SubmitDef
from pelayanan.sop.registry import SOPRegistry

__all__ = [
    "SOP",
    "ActionDef",
    "CompiledSOP",
    "SOPRegistry",
    "StateDef",
    "SubmitDef",
    "compile_sop",
    "load_sop",
    "sop_from_dict",
]
