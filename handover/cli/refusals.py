"""A service's refusal as the `handover` command prints it."""

import click


def refused(error):
    """``error`` (an `AccountError`: a message id and its parameters) as a one-line CLI error
    in English, like the command's help and every other line it prints: an operator's shell and
    the logs searched later speak one language. `str` fills the parameters into the message id
    itself; `translated()` would follow the locale in force, Finnish by default outside a
    request."""
    return click.ClickException(str(error))
