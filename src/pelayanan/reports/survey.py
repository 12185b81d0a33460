"""Satisfaction-survey responses recorded in the log (``kind: "survey"`` entries).

The desk records one entry per respondent against a request in a final state: the
answers per unsur key (integers 1-4) and the rule set they follow, nothing about the
respondent.  `SurveyFold` collects them from the verified log for `compute_ikm`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pelayanan.audit.kinds import ANSWERS, KIND, KIND_SURVEY, RULES, SEQ
from pelayanan.exceptions import ReportError

__all__ = ["SurveyFold"]


class SurveyFold:
    """Collect survey answers from verified entries, in log order.

    Args:
        rules: keep only responses recorded under this rule-set name (``None``: all).
    """

    def __init__(self, *, rules: str | None = None) -> None:
        self.rules = rules
        self.responses: list[dict[str, int]] = []
        self.seqs: list[int] = []
        self.other_rules: dict[str, int] = {}

    def feed(self, entry: Mapping[str, Any]) -> None:
        """Take the next verified entry.

        Raises:
            ReportError: a survey entry holds no answers.
        """
        if entry[KIND] != KIND_SURVEY:
            return
        answers = entry.get(ANSWERS)
        if not isinstance(answers, Mapping):
            raise ReportError(f"entry {entry[SEQ]}: survey entry without answers")
        recorded = str(entry.get(RULES, ""))
        if self.rules is not None and recorded != self.rules:
            self.other_rules[recorded] = self.other_rules.get(recorded, 0) + 1
            return
        self.responses.append({str(k): v for k, v in answers.items()})
        self.seqs.append(entry[SEQ])
