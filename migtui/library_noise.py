"""What the libraries migtui loads would say on the user's terminal, kept off it.

Installed by ``migtui/__init__.py``, so it is in place before any of those
libraries is imported, whichever entry point runs (the CLI, the dashboard, a
lab child, a login over SSH). Each filter names one category and the module
that triggers it: a warning of migtui's own, or of another library, still shows.
"""

from __future__ import annotations

import logging
import warnings


def quiet_library_noise() -> None:
    try:
        from cryptography.utils import CryptographyDeprecationWarning
    except ImportError:  # asyncssh (and with it cryptography) is only needed for SSH hosts
        pass
    else:
        # asyncssh names cryptography's DSA classes in its type hints and key support;
        # cryptography 47 and newer deprecate them on every access: ten lines at each
        # start that loads asyncssh. migtui offers no DSA key of its own; a user's DSA
        # key still loads, and OpenSSH itself no longer accepts one.
        warnings.filterwarnings("ignore", category=CryptographyDeprecationWarning, module=r"asyncssh(\.|$)")
    # matplotlib (report --html) logs "building the font cache" at WARNING the first time
    # a release runs for a user; with no logging set up, Python prints that on stderr.
    # Its errors still show.
    logging.getLogger("matplotlib").setLevel(logging.ERROR)
