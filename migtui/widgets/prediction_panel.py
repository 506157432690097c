"""Where the migration is heading, why, and what would help."""

from __future__ import annotations

from collections.abc import Mapping

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from migtui.model.link import LinkState
from migtui.model.sample import Sample
from migtui.model.vm_state import VMState
from migtui.ops.actions import advice_mark
from migtui.qmp.policy import PolicyRunner
from migtui.units import compact_seconds
from migtui.widgets.outlook import Outlook, ending, outlook_of


class PredictionPanel(Static):
    """The convergence prediction of one VM: verdict, reasons, actions.

    Recomputed on every sample (bound from the VM screen) and when the VM's
    settings change (``settings_version``): a higher downtime limit changes
    the verdict at once.
    """

    DEFAULT_CSS = """
    PredictionPanel {
        height: auto;
        padding: 0 1;
        background: $panel;
        border-left: thick $secondary;
    }
    PredictionPanel.-good { border-left: thick $success; }
    PredictionPanel.-warn { border-left: thick $warning; }
    PredictionPanel.-bad { border-left: thick $error; }
    """

    sample: reactive[Sample | None] = reactive(None)
    """The VM's newest sample; bound from the VM screen."""
    settings_version: reactive[int] = reactive(0)
    """Bumped by the screen when the VM's parameters or capabilities were read again."""
    link: reactive[LinkState] = reactive(LinkState.CONNECTING)
    """The VM's link (bound from the VM screen): a VM that is down is not advised on."""

    def __init__(self, state: VMState, policies: Mapping[str, PolicyRunner] | None = None, *,
                 advice_keys: bool = True, id: str | None = None) -> None:
        super().__init__(id=id)
        self.advice_keys = advice_keys
        """Show the key that takes each piece of advice (off when read-only: no key can)."""
        self.state = state
        self.policies = policies or {}
        """The policies at work, by VM (the fleet's): the panel says what the VM's does next."""
        self.outlook: Outlook | None = None

    def on_mount(self) -> None:
        self.recompute()

    def watch_sample(self) -> None:
        self.recompute()

    def watch_settings_version(self) -> None:
        self.recompute()

    def watch_link(self) -> None:
        self.recompute()

    def recompute(self) -> None:
        if not self.is_mounted:
            return
        outlook = outlook_of(self.state.prediction())
        self.outlook = outlook
        for tone in ("good", "warn", "bad"):
            self.set_class(outlook.tone == tone, f"-{tone}")
        story = ending(self.state.latest, self.state.limit_at_end())
        if story is not None:
            # How a bandwidth action taken did is part of how the migration went (during it, it is a reason).
            checks = [Text(f"  · {p.check.words}") for p in outlook.prediction.followed if p.check is not None]
            self.update(Text("\n").join([Text.assemble(("last migration: ", "bold"), story), *checks]))
            return
        lines = [Text.assemble(("outlook: ", "bold"), (outlook.headline, "bold"))]
        lines += [Text(f"  · {reason}") for reason in outlook.reasons]
        runner = self.policies.get(self.state.name)
        if runner is not None:
            lines.append(Text.assemble((f"policy {runner.policy.name}: ", "bold"), f"next: {runner.next}"))
        lines += [Text(f"  {advice_mark(action.name, self.advice_keys)} {action.text}"
                       + (f"; done in about {compact_seconds(action.eta_s)}" if action.eta_s else "")
                       # A stop is in the action's own words already; the other costs are not.
                       + (f" ({action.cost.short})" if action.cost is not None
                          and (action.cost.stop_ms is None or action.name == "max-bandwidth") else ""))
                  for action in outlook.prediction.actions]
        self.update(Text("\n").join(lines))
