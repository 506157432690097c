"""Where migration policies are found, and reading them.

The built-ins ship in the package ``migtui.policies``; an admin's own live
in ``config_dir()/policies/NAME.toml`` and win over a built-in of the same
name. What a policy says and does is :mod:`migtui.model.policy`.
"""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path

from migtui.errors import ConfigError, UsageError
from migtui.inventory import config_dir
from migtui.model.policy import Policy, parse_policy


def policies_dir() -> Path:
    return config_dir() / "policies"


def list_policies() -> list[str]:
    names = {path.stem for path in _builtin_dir().glob("*.toml")}
    if policies_dir().is_dir():
        names |= {path.stem for path in policies_dir().glob("*.toml")}
    return sorted(names)


def load_policy(name: str) -> Policy:
    own = policies_dir() / f"{name}.toml"
    builtin = _builtin_dir() / f"{name}.toml"
    path = own if own.is_file() else builtin
    if "/" in name or not path.is_file():
        raise UsageError(f"no policy named {name!r} (known: {', '.join(list_policies())}; "
                         f"yours go in {policies_dir()})")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"{path}: {error}") from None
    return parse_policy(name, data, path)


def _builtin_dir() -> Path:
    return Path(str(resources.files("migtui.policies")))
