"""``pelayanan sop``: check, draw, simulate SOP files and print the language's JSON Schema.

Problems are printed on stderr one per line as ``error: FILE:LINE: KEY.PATH: message``
and never as a traceback: ``check`` exits 0 when every file is valid and 1 otherwise;
``diagram`` and ``simulate`` exit 2 on an invalid file or scenario, ``simulate`` 1 at the
first step whose outcome is not the expected one.  A missing file exits 2.
"""

from __future__ import annotations

import datetime as dt
import json

import click

from pelayanan.cli._common import (
    EXIT_BAD_INPUT,
    EXIT_FAILED_CHECK,
    choice_option,
    example,
    fail,
    fail_all,
)
from pelayanan.exceptions import ConfigurationError, SOPDefinitionError
from pelayanan.sop.diagram import to_dot, to_mermaid
from pelayanan.sop.loader import load_sop
from pelayanan.sop.model import SOP
from pelayanan.sop.schema import render_reference, sop_json_schema
from pelayanan.sop.simulate import ClockView, StepResult, load_scenario, simulate

__all__ = ["sop_group"]


def _problems(error: SOPDefinitionError) -> None:
    """Print each problem of *error* as one ``error:`` line on stderr."""
    for problem in error.problems:
        click.echo(f"error: {problem.render()}", err=True)


def _load(path: str) -> SOP:
    try:
        return load_sop(path)
    except SOPDefinitionError as exc:
        fail_all((problem.render() for problem in exc.problems), EXIT_BAD_INPUT)


_FILE = click.Path(exists=True, dir_okay=False)


@click.group("sop", epilog=example("pelayanan sop check my-sop.yaml"))
def sop_group() -> None:
    """Check, draw and simulate SOP files."""


@sop_group.command("check", epilog=example("pelayanan sop check my-sop.yaml other-sop.yaml"))
@click.argument("files", nargs=-1, required=True, type=_FILE)
def check_command(files: tuple[str, ...]) -> None:
    """Validate SOP FILES; print one stderr line per problem (FILE:LINE: KEY.PATH: message).

    Exit 0 when every file is valid, 1 when one is not.
    """
    failed = False
    for path in files:
        try:
            sop = load_sop(path)
        except SOPDefinitionError as exc:
            _problems(exc)
            failed = True
            continue
        click.echo(
            f"{path}: valid: {sop.id} {sop.version}, {len(sop.states)} states, "
            f"{len(sop.actions)} actions, {len(sop.clocks)} clocks, hash {sop.content_hash[:12]}"
        )
    raise SystemExit(EXIT_FAILED_CHECK if failed else 0)


@sop_group.command("diagram", epilog=example("pelayanan sop diagram my-sop.yaml --format dot"))
@click.argument("file", type=_FILE)
@choice_option("--format", "fmt", ["mermaid", "dot"], "Mermaid stateDiagram-v2 or Graphviz DOT.")
def diagram_command(file: str, fmt: str) -> None:
    """Print the SOP in FILE as a diagram."""
    sop = _load(file)
    click.echo(to_mermaid(sop) if fmt == "mermaid" else to_dot(sop), nl=False)


@sop_group.command("schema", epilog=example("pelayanan sop schema > sop.schema.json"))
@choice_option(
    "--format",
    "fmt",
    ["json", "markdown"],
    "The JSON Schema, or the Markdown key reference generated from it.",
)
def schema_command(fmt: str) -> None:
    """Print the JSON Schema of the SOP language (for editors' YAML language servers)."""
    if fmt == "json":
        click.echo(json.dumps(sop_json_schema(), indent=2, ensure_ascii=False))
    else:
        click.echo(render_reference(), nl=False)


def _when(instant: dt.datetime) -> str:
    return instant.isoformat(timespec="minutes")


def _clock_line(view: ClockView) -> str:
    if view.status == "paused":
        left = view.remaining or dt.timedelta(0)
        return f"    clock {view.name}: paused, {left} left"
    assert view.deadline is not None
    estimated = " (relies on an estimated holiday date)" if view.estimated else ""
    if view.status == "stopped":
        verdict = "breached" if view.breached else "met"
        return f"    clock {view.name}: stopped, {verdict} (deadline {_when(view.deadline)})"
    late = ", BREACHED" if view.breached else ""
    return f"    clock {view.name}: running, due {_when(view.deadline)}{late}{estimated}"


def _print_step(result: StepResult, held_before: str | None) -> None:
    step = result.step
    head = f"{result.index + 1:>2}. {_when(result.at)}  {step.actor}: {step.action}"
    if result.accepted:
        outcome = f"-> {result.state}"
    else:
        outcome = "refused" + (" (as expected)" if result.as_expected else "")
    click.echo(f"{head}  {outcome}" + (f"   # {step.note}" if step.note else ""))
    if result.accepted and result.authority:
        click.echo(f"    acting for {result.authority} (delegation)")
    if result.accepted and result.branches:
        click.echo(
            "    branches: " + ", ".join(f"{n} {s}" for n, s in sorted(result.branches.items()))
        )
    if result.accepted and result.unit != held_before:
        click.echo(f"    held by {result.unit}")
    if result.reason:
        click.echo(f"    reason: {result.reason}")
    for view in result.clocks:
        click.echo(_clock_line(view))


@sop_group.command(
    "simulate", epilog=example("pelayanan sop simulate my-sop.yaml my-scenario.yaml")
)
@click.argument("sop_file", type=_FILE)
@click.argument("scenario_file", type=_FILE)
@click.option(
    "--calendar",
    "calendar_files",
    multiple=True,
    metavar="[NAME=]FILE",
    help="A working-calendar YAML file for the deadlines (default: the Indonesian "
    "government calendar); NAME=FILE gives the calendar clocks name NAME (repeatable).",
)
@click.option(
    "--routing",
    "routing_file",
    type=_FILE,
    help="A routing configuration: the submission and actions with `route` go to the "
    "unit it decides, and its delegations (Plt/Plh) are in force.",
)
def simulate_command(
    sop_file: str, scenario_file: str, calendar_files: tuple[str, ...], routing_file: str | None
) -> None:
    """Run SCENARIO_FILE on the SOP in SOP_FILE, printing states and SLA clock deadlines.

    Deadlines are computed on the default Indonesian government calendar unless
    --calendar gives another.  Exits 1 at the first step whose outcome is not the
    expected one, with the reason; 2 on an invalid SOP, scenario, calendar or routing
    file.
    """
    from pelayanan.cli._report_common import load_calendars  # noqa: PLC0415 - start-up time
    from pelayanan.routing import load_routing_config  # noqa: PLC0415 - start-up time

    sop = _load(sop_file)
    calendar, calendars = load_calendars(calendar_files)
    routing = None
    try:
        if routing_file is not None:
            routing = load_routing_config(routing_file)
        scenario = load_scenario(scenario_file)
        click.echo(f"{sop.id} {sop.version}: {sop.title}")
        held: str | None = None
        for result in simulate(
            sop, scenario, calendar=calendar, calendars=calendars, routing=routing
        ):
            _print_step(result, held)
            held = result.unit
            if not result.as_expected:
                where = f"{scenario_file}:{result.step.line or 0}"
                why = result.reason or "the step was accepted, but the scenario expects a refusal"
                fail(f"{where}: steps[{result.index}]: {why}", EXIT_FAILED_CHECK)
    except ConfigurationError as exc:
        fail_all((problem.render() for problem in exc.problems), EXIT_BAD_INPUT)
    click.echo(f"scenario completed: {len(scenario.steps)} steps")
