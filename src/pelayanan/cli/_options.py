"""Click options that several ``pelayanan`` commands share, spelt and documented once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

__all__ = ["format_option", "trusted_key_option"]

_Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def format_option(
    *choices: str, dest: str = "output_format", help: str = "Output format."
) -> _Decorator:
    """Return the ``--format`` option with *choices*, the first being the default.

    Args:
        *choices: the formats the command writes, the default first.
        dest: the name of the command's parameter that receives the choice.
        help: the help text.

    Returns:
        The click option decorator.
    """
    return click.option(
        "--format",
        dest,
        type=click.Choice(list(choices)),
        default=choices[0],
        show_default=True,
        help=help,
    )


def trusted_key_option(help: str) -> _Decorator:
    """Return the repeatable ``--trusted-key PEM`` option, received as ``trusted``.

    Args:
        help: the help text: whose checkpoints the key is trusted for, and the default.

    Returns:
        The click option decorator.
    """
    return click.option(
        "--trusted-key", "trusted", multiple=True, type=click.Path(dir_okay=False), help=help
    )
