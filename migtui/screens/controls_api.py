"""What a screen may ask of the dashboard: the App's screen stack, and the controls of the VMs.

Screens are given a :class:`Controls` (the App's
:class:`~migtui.screens.vm_controls.VMControls`) and reach the App only
through its :class:`ScreenStack`. Both are protocols so that the screens
need not import the module that opens them, nor the App that holds them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Protocol, TypeVar

from textual.notifications import SeverityLevel
from textual.screen import Screen

from migtui.model.vm_state import VMState
from migtui.preferences import Preferences
from migtui.qmp.fleet_view import DashboardFleet
from migtui.qmp.queries import Queries
from migtui.qmp.session import VMSession
from migtui.widgets.marks import ChartMark

Result = TypeVar("Result")


class ScreenStack(Protocol):
    """What the controls and the screens need of the App: its screens, notifications, workers and memory."""

    @property
    def screen(self) -> Screen[Any]: ...

    def push_screen(self, screen: Screen[Any], callback: Callable[[Any], None] | None = None) -> Any: ...

    def pop_screen(self) -> Any: ...

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = True) -> None: ...

    def run_worker(self, work: Callable[[], Awaitable[Any]], name: str | None = "", group: str = "default",
                   description: str = "", exit_on_error: bool = True, start: bool = True,
                   exclusive: bool = False, thread: bool = False) -> Any: ...

    @property
    def chosen(self) -> Preferences:
        """The admin's remembered choices (theme, chart window, sort)."""

    def remember(self, **changes: object) -> None:
        """Keep a choice for the next start."""

    def show_error(self, error: BaseException, doing: str) -> None:
        """A failure in QEMU's words (a notification), or a bug on an error screen."""


class Controls(Protocol):
    """Every action on the fleet's VMs, as the screens use them."""

    stack: ScreenStack
    fleet: DashboardFleet
    read_only: bool
    auto_dismiss_jobs: bool
    live: bool
    """Live VMs (False: a recording, where editors, snapshots and refresh have nothing to act on)."""

    @property
    def states(self) -> dict[str, VMState]: ...

    def session(self, vm: str) -> Queries:
        """Questions to ``vm``'s QEMU; changes go through :meth:`change`."""

    def watch_settings(self, vm: str) -> Callable[[], None]: ...

    def allowed(self, name: str, vm: str | None) -> bool | None: ...

    def explain(self, name: str, vm: str | None) -> None: ...

    def run(self, name: str, vm: str) -> None: ...

    def open_vm(self, vm: str) -> None: ...

    def ask(self, title: str, question: str, *, then: Callable[[], object], yes: str = "Yes",
            no: str = "No") -> None: ...

    def change(self, vm: str, make: Callable[[VMSession], Awaitable[Result]], *, doing: str, done: str | None,
               also: Iterable[str] = (), mark: bool = True, group: str | None = None, exclusive: bool = False,
               after: Callable[[Result], object] | None = None) -> None: ...

    async def change_now(self, vm: str, make: Callable[[VMSession], Awaitable[Result]]) -> Result: ...

    def mark(self, vm: str, text: str, at: float | None = None) -> ChartMark: ...
