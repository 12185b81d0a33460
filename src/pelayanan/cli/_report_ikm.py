"""``pelayanan report ikm``: the satisfaction index of a paper survey in CSV.

Bad input (the CSV, ``--weight``) ends with exit status 2 and one line on stderr naming
what to fix; no traceback.  The lead mounts `ikm_command` under the ``report`` group.
"""

from __future__ import annotations

import json
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path

import click

from pelayanan.exceptions import ReportError
from pelayanan.reports.ikm import compute_ikm, read_survey_csv, rule_set

__all__ = ["ikm_command"]

#: Exit status for bad input, as the CLI contract states.
EXIT_BAD_INPUT = 2


def _parse_weight(text: str | None) -> Decimal | None:
    if text is None:
        return None
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise ReportError(
            f"--weight {text!r} is not a decimal number; write it like 0.111"
        ) from None
    if not value.is_finite():
        raise ReportError(f"--weight {text!r} is not a decimal number; write it like 0.111")
    return value


@click.command("ikm")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path))
@click.option(
    "--weight",
    metavar="DECIMAL",
    default=None,
    help="Apply this one rounded weight to every unsur (the published convention, "
    "e.g. 0.111) instead of the exact 1/n.",
)
@click.option(
    "--rules",
    "rules_name",
    type=click.Choice(["2017", "2004"]),
    default="2017",
    show_default=True,
    help="Rule set: PermenPANRB 14/2017 or KEP/25/M.PAN/2/2004.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Output format.",
)
def ikm_command(file: Path, weight: str | None, rules_name: str, output_format: str) -> None:
    """Compute the IKM (public satisfaction index) of a survey in FILE.csv.

    FILE has a header row of unsur keys (any order) and one row per respondent with
    integer answers 1-4; "-" reads standard input.
    """
    try:
        rules = rule_set(rules_name)
        rounded = _parse_weight(weight)
        if str(file) == "-":
            responses = read_survey_csv(sys.stdin, rules=rules)
        else:
            responses = read_survey_csv(file, rules=rules)
        result = compute_ikm(responses, rules=rules, weight=rounded)
    except ReportError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(EXIT_BAD_INPUT) from None
    if output_format == "json":
        click.echo(json.dumps(result.to_json_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(result.render_text())
