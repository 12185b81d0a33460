"""Draw an SOP as a Mermaid state diagram or a Graphviz DOT graph."""

from __future__ import annotations

from collections.abc import Iterator

from pelayanan.sop.model import SOP, BranchDef

__all__ = ["to_dot", "to_mermaid"]


def _edges(sop: SOP) -> Iterator[tuple[str, str, str]]:
    """Yield ``(source, target, label)``, one per distinct edge, in definition order."""
    labels: dict[tuple[str, str], list[str]] = {}
    for action in sop.actions:
        roles = "/".join(action.roles)
        for source in action.sources:
            labels.setdefault((source, action.target), []).append(f"{action.name} [{roles}]")
    for (source, target), names in labels.items():
        yield source, target, ", ".join(names)


def _mermaid_text(text: str) -> str:
    # Mermaid labels end at a colon or newline and choke on quotes.
    return text.replace(":", " ").replace('"', "'").replace("\n", " ")


def _branch_text(branch: BranchDef) -> str:
    """Return a branch's caption: its label, unit and roles."""
    parts = [branch.label or branch.name]
    if branch.unit:
        parts.append(f"unit {branch.unit}")
    if branch.roles:
        parts.append("roles " + "/".join(branch.roles))
    return " - ".join(parts)


def to_mermaid(sop: SOP) -> str:
    """Return *sop* as a Mermaid ``stateDiagram-v2`` (states labelled id / en).

    Actions become edges labelled with the action names and their roles; several actions
    between the same two states share one edge.  A parallel state is a composite state
    whose branches (captioned with their unit and roles) are separated by ``--``.
    """
    lines = ["stateDiagram-v2", f"    %% {sop.id} {sop.version}: {_mermaid_text(sop.title)}"]
    for state in sop.states:
        label = _mermaid_text(f"{state.label_id} / {state.label_en}")
        lines.append(f'    state "{label}" as {state.id}')
    for parallel in sop.parallel:
        lines.append(f"    state {parallel.state} {{")
        for index, branch in enumerate(parallel.branches):
            if index:
                lines.append("        --")
            caption = _mermaid_text(_branch_text(branch))
            lines.append(f'        state "{caption}" as branch__{branch.name}')
            lines.append(f"        state branch__{branch.name} {{")
            lines.append(f"            [*] --> {branch.initial}")
            lines.extend(
                f"            {source} --> {target} : {_mermaid_text(label)}"
                for source, target, label in _edges(sop)
                if source in branch.states
            )
            lines.extend(
                f"            {state} --> [*]" for state in branch.states if sop.state(state).final
            )
            lines.append("        }")
        lines.append("    }")
        lines.append(f"    {parallel.state} --> {parallel.then} : every branch done")
    lines.append(f"    [*] --> {sop.initial}")
    lines.extend(
        f"    {source} --> {target} : {_mermaid_text(label)}"
        for source, target, label in _edges(sop)
        if sop.branch_of(source) is None
    )
    lines.extend(f"    {state.id} --> [*]" for state in sop.top_states if state.final)
    return "\n".join(lines) + "\n"


def _dot_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def to_dot(sop: SOP) -> str:
    """Return *sop* as a Graphviz ``digraph`` (final states drawn with a double border)."""
    lines = [
        f'digraph "{_dot_text(sop.id)}" {{',
        f'    label="{_dot_text(f"{sop.title} ({sop.id} {sop.version})")}";',
        "    rankdir=LR;",
        "    node [shape=box, style=rounded];",
        '    "__start" [shape=point, label=""];',
    ]
    for state in sop.states:
        shape = ", peripheries=2" if state.final else ""
        label = _dot_text(f"{state.label_id}\n{state.label_en}")
        lines.append(f'    "{state.id}" [label="{label}"{shape}];')
    for parallel in sop.parallel:
        # Each branch is a cluster captioned with its unit and roles; dashed edges start
        # the branches and lead from their final states to the state after them.
        for branch in parallel.branches:
            lines.append(f'    subgraph "cluster_{branch.name}" {{')
            lines.append(f'        label="{_dot_text(_branch_text(branch))}"; style=dashed;')
            lines.extend(f'        "{state}";' for state in branch.states)
            lines.append("    }")
            lines.append(f'    "{parallel.state}" -> "{branch.initial}" [style=dashed];')
            lines.extend(
                f'    "{state}" -> "{parallel.then}" [style=dashed, label="all done"];'
                for state in branch.states
                if sop.state(state).final
            )
    lines.append(f'    "__start" -> "{sop.initial}";')
    lines.extend(
        f'    "{source}" -> "{target}" [label="{_dot_text(label)}"];'
        for source, target, label in _edges(sop)
    )
    lines.append("}")
    return "\n".join(lines) + "\n"
