"""The headless command line: the same engine as the dashboard, no screen.

Each subcommand is one module exposing ``register(subparsers)``, which adds
its parser and sets ``func`` to a coroutine or function taking the parsed
arguments and returning the exit code.
"""
