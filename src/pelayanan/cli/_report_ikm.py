"""``pelayanan report ikm``: the satisfaction index of a paper survey in CSV, or of the
survey responses recorded in a store's verified log (``--db``).

Bad input (the CSV, ``--weight``) ends with exit status 2 and one line on stderr naming
what to fix; no traceback.  A log that does not verify ends with exit status 1.
"""

from __future__ import annotations

import json
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import click

from pelayanan.cli._common import (
    EXIT_BAD_INPUT,
    check_output,
    db_option,
    example,
    fail,
    file_option,
    force_option,
    format_option,
    keys_option,
    output_option,
    trusted_key_option,
    write_output,
)
from pelayanan.cli._report_common import ReplayOptions, replay_db
from pelayanan.cli._report_output import (
    FOLDER_HELP,
    check_table_choice,
    read_rules,
    rules_option,
    table_option,
    write_tables,
)
from pelayanan.exceptions import ReportError
from pelayanan.reports.ikm import IKMResult, compute_ikm, read_survey_csv
from pelayanan.reports.replay import ReportBasis
from pelayanan.reports.survey import SurveyFold
from pelayanan.reports.tables import ikm_tables

__all__ = ["ikm_command"]


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


@click.command(
    "ikm",
    epilog=example(
        "pelayanan report ikm survey.csv --weight 0.111",
        "pelayanan report ikm --db pelayanan-demo.db --format json",
    ),
)
@click.argument(
    "file",
    required=False,
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
)
@db_option(required=False)
@trusted_key_option(
    "With --db: a public key PEM to trust (repeatable). Default: the keys in DB.keys/."
)
@keys_option("With --db: a key folder whose public keys to trust.")
@click.option("--ledger", help="With --db: the ledger to read (default: the only one).")
@file_option(
    "--checkpoint",
    "checkpoint_file",
    help_text="With --db: read the log only up to this signed checkpoint file.",
)
@click.option(
    "--weight",
    metavar="DECIMAL",
    default=None,
    help="Apply this one rounded weight to every unsur (the published convention, "
    "e.g. 0.111) instead of the exact 1/n.",
)
@rules_option
@format_option("text", "json", "csv")
@table_option(("unsur", "result", "basis"))
@output_option(folder=FOLDER_HELP)
@force_option
def ikm_command(  # noqa: PLR0917 (click passes options by position)
    file: Path | None,
    db: str | None,
    trusted: tuple[str, ...],
    keys_dir: str | None,
    ledger: str | None,
    checkpoint_file: str | None,
    weight: str | None,
    rules_name: str,
    output_format: str,
    table: str | None,
    output: str | None,
    force: bool,
) -> None:
    """Compute the IKM (public satisfaction index) of FILE.csv or of the log in --db.

    FILE has a header row of unsur keys (any order) and one row per respondent with
    integer answers 1-4; "-" reads standard input.  With --db STORE, the responses are the
    ``survey`` entries of the verified log recorded under the chosen rules.
    """
    if (file is None) == (db is None):
        fail("give exactly one of FILE.csv or --db STORE", EXIT_BAD_INPUT)
    check_table_choice(output_format, table, output)
    if table == "basis" and db is None:
        fail("--table basis needs --db (a CSV survey has no log basis)", EXIT_BAD_INPUT)
    protect: dict[str, Any] = {
        "force": force,
        "db": db,
        "keys_dir": keys_dir,
        "inputs": [*trusted, *([] if file is None else [str(file)]), rules_name],
    }
    if output is not None and table != "all":
        check_output(output, **protect)
    basis: ReportBasis | None = None
    rules = read_rules(rules_name)
    try:
        rounded = _parse_weight(weight)
        if db is not None:
            options = ReplayOptions(db, trusted, keys_dir, ledger, checkpoint_file, (), None)
            survey = SurveyFold(rules=rules.name)
            log = replay_db(options, [survey])
            basis = ReportBasis.for_log(log, options.calendar, rules={"ikm": rules.name})
            if not survey.responses:
                others = ", ".join(f"{n} under rules {r}" for r, n in survey.other_rules.items())
                hint = f" ({others})" if others else ""
                raise ReportError(
                    f"{db}: the log holds no survey response under rules {rules.name}{hint}"
                )
            responses = survey.responses
        elif str(file) == "-":
            responses = read_survey_csv(sys.stdin, rules=rules)
        else:
            assert file is not None
            responses = read_survey_csv(file, rules=rules)
        result = compute_ikm(responses, rules=rules, weight=rounded)
    except ReportError as exc:
        fail(str(exc), EXIT_BAD_INPUT)
    _emit(result, basis, output_format, table, output, protect)


def _emit(  # noqa: PLR0917 (the command's choices, passed on)
    result: IKMResult,
    basis: ReportBasis | None,
    output_format: str,
    table: str | None,
    output: str | None,
    protect: dict[str, Any],
) -> None:
    """Write the result in the chosen format, to *output* or stdout."""
    if output_format == "csv":
        write_tables(ikm_tables(result, basis), table, output, **protect)
        return
    if output_format == "json":
        data = result.to_json_dict()
        if basis is not None:
            data["basis"] = basis.to_json_dict()
        text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    else:
        head = "" if basis is None else "\n".join(basis.render_lines()) + "\n"
        text = head + result.render_text() + "\n"
    write_output(text, output, **protect)
