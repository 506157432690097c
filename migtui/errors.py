"""The one error type users see.

Every layer raises a subclass of :class:`MigtuiError` for anything a user can
cause or fix (a wrong value, a dead socket, QEMU refusing a command). Its
``str()`` is the whole message: one readable line, shown as it is by the CLI
and the dashboard, never with a traceback.
"""

from __future__ import annotations


class MigtuiError(Exception):
    """A failure explained in one line, for the person at the terminal."""

    exit_code = 1
    """The command line's exit status when this ends a command."""


class ConfigError(MigtuiError):
    """The inventory or another configuration file is wrong."""


class UsageError(MigtuiError):
    """The command line asks for something that does not exist."""


class BadArguments(UsageError):
    """Options or values refused before anything was done, as argparse refuses them."""

    exit_code = 2
