"""A bug inside a screen is one line on screen, never the end of the dashboard.

Textual ends the whole app on any exception a handler lets out: a key's
action (run in the App's own message loop), a screen's or widget's handler,
compose or mount (run in theirs; that loop is dead afterwards). An admin
watching a fleet loses every view for one screen's bug. Mixed into the App:

- a key's or the palette's action that raises is caught where it is run,
  so the App's loop goes on;
- a screen whose handler raised is closed (its loop has stopped), back to
  the screen under it; a widget of the fleet screen that raised has its
  screen composed afresh;

and either way the failure is a notification of one line, its traceback in
the log (``textual console`` or the ``--log`` of a test run).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

from textual._context import active_message_pump
from textual.actions import ActionParseResult
from textual.app import App
from textual.css.query import NoMatches
from textual.dom import DOMNode
from textual.screen import Screen
from textual.widget import Widget

log = logging.getLogger("migtui.app")


def failure_line(error: BaseException, doing: str) -> str:
    """``Saving a snapshot failed: IndexError: list index out of range (a bug in migtui; the VMs are untouched)``."""
    return f"{doing} failed: {type(error).__name__}: {error} (a bug in migtui; the dashboard goes on)"


class ContainsScreenFailures(App[None]):
    """An App whose screens fail alone (see the module's docstring)."""

    failures: int = 0
    """How many failures were contained this run (tests check it stays 0 where nothing should fail)."""
    _stopped: frozenset[Screen[object]] = frozenset()
    """Bottom screens whose own loop stopped, under the fresh one that replaced them."""

    def contained(self, error: BaseException, doing: str) -> None:
        self.failures += 1
        log.error("%s failed unexpectedly", doing, exc_info=error)
        self.notify(failure_line(error, doing), title="Unexpected error", severity="error", timeout=20,
                    markup=False)

    async def run_action(self, action: str | ActionParseResult, default_namespace: DOMNode | None = None,
                         namespaces: Mapping[str, DOMNode] | None = None) -> bool:
        try:
            return await super().run_action(action, default_namespace, namespaces)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            name = action if isinstance(action, str) else action[1]
            self.contained(error, f"{name} on the {_screen_name(self.screen)}")
            return True

    def _handle_exception(self, error: Exception) -> None:
        pump = active_message_pump.get(None)
        screen = _screen_of(pump)
        if not self.is_running or pump is self or screen is None or screen not in self.screen_stack:
            super()._handle_exception(error)  # starting, stopping, or the App itself: Textual's way
            return
        under = self.screen_stack[:self.screen_stack.index(screen)]
        if all(below in self._stopped for below in under):  # the bottom screen (the fleet)
            self.contained(error, f"the {_screen_name(screen)}")
            if pump is screen:
                self._stopped |= {screen}
                self.call_later(self._fresh_bottom_screen)  # its own loop stopped: a new one takes its place
                return
            screen.call_later(screen.recompose)  # the failed widget's loop stopped: fresh widgets replace it
            return
        self.contained(error, f"the {_screen_name(screen)}")
        self.call_later(self._close_down_to, screen)

    async def _fresh_bottom_screen(self) -> None:
        """A new bottom screen over the stopped one (Textual cannot switch the bottom screen)."""
        while self.screen_stack[-2:-1] and self.screen_stack[-2] not in self._stopped:
            await self.pop_screen()
        await self.push_screen(self.get_default_screen())

    async def _close_down_to(self, screen: Screen[object]) -> None:
        """Pop ``screen`` and what is above it (dialogs it opened)."""
        while screen in self.screen_stack and len(self.screen_stack) > 1 and self.screen_stack[-2] not in self._stopped:
            await self.pop_screen()


def _screen_of(pump: object) -> Screen[object] | None:
    if isinstance(pump, Screen):
        return pump
    if isinstance(pump, Widget):
        try:
            return pump.screen
        except NoMatches:  # a widget not (or no longer) on a screen
            return None
    return None


def _screen_name(screen: Screen[object]) -> str:
    """``snapshots screen``: from the class name, as users see the screens."""
    name = type(screen).__name__.removesuffix("Screen").removesuffix("Dialog")
    words = "".join(f" {c.lower()}" if c.isupper() else c for c in name).strip()
    kind = "dialog" if type(screen).__name__.endswith("Dialog") else "screen"
    return f"{words} {kind}"
