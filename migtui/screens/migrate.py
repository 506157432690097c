"""Start a migration: choose where to, see the pre-flight checks, confirm.

The destination is a VM of the fleet that waits for an incoming migration
(run state ``inmigrate``: started with ``-incoming defer``) or a URI typed
by hand; a libvirt domain's is another libvirt host of the inventory. Every
change of choice runs the engine's pre-flight checks again
(both sides reachable, the source able to migrate, the capabilities that
must match on both sides matching once the chosen ones are applied); the
Migrate button is enabled only when they pass for what is on screen.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Checkbox, Input, Label, OptionList, Select, Static
from textual.widgets.option_list import Option

from migtui.errors import MigtuiError
from migtui.model.link import LinkState
from migtui.model.status import RunState
from migtui.ops import migrate
from migtui.policy_files import list_policies
from migtui.qmp.migration import MATCHING_CAPABILITIES, URI_SCHEMES, MigrationPlan
from migtui.screens.controls_api import Controls
from migtui.screens.dialog import Dialog
from migtui.widgets.ordered_input import OrderedInput
from migtui.widgets.ticks import TickBox

URI_OPTION = "-uri-"
HOST_OPTION = "-host-"
OFFERED_CAPABILITIES = (
    ("postcopy-ram", "postcopy-ram (lets you switch to postcopy later)"),
    ("auto-converge", "auto-converge (throttle the guest if it dirties too fast)"),
)
KEEP_SOURCE, TRANSIENT = "libvirt-keep-source", "libvirt-transient"
LIBVIRT_CHOICES = (
    (KEEP_SOURCE, "keep it defined on the source (undefined there by default)"),
    (TRANSIENT, "transient on the destination (persistent there by default)"),
)
"""What becomes of a libvirt domain's definitions (migtui migrate --keep-source, --transient)."""


@dataclass(frozen=True)
class MigrationRequest:
    """What the user confirmed."""

    source: str
    destination: str | None = None
    """A VM of the fleet, or None for :attr:`uri` or :attr:`host`."""
    uri: str | None = None
    host: str | None = None
    """A libvirt host, where a libvirt domain migrates to."""
    plan: MigrationPlan = field(default_factory=MigrationPlan)
    policy: str | None = None
    """A migration policy to follow it with (``migtui.model.policy``)."""

    @property
    def target(self) -> str:
        return self.destination or self.host or self.uri or "?"


class MigrateDialog(Dialog[MigrationRequest | None]):
    DEFAULT_CSS = """
    MigrateDialog #migrate-box {
        width: 78;
    }
    MigrateDialog OptionList, MigrateDialog OptionList:focus {
        height: auto;
        max-height: 6;
        border: none;
        margin: 1 0 0 0;
        background: $surface;
    }
    MigrateDialog Select {
        margin-top: 1;
    }
    /* One-line fields: Textual's focus border would take their only line, so
     * focus is told by the background (and the cursor) instead. */
    MigrateDialog Input, MigrateDialog Input:focus, MigrateDialog Checkbox, MigrateDialog Checkbox:focus {
        height: 1;
        border: none;
        padding: 0 1;
    }
    MigrateDialog Input {
        background: $boost;
        margin-bottom: 1;
    }
    MigrateDialog Input:focus, MigrateDialog Checkbox:focus {
        background: $primary 30%;
    }
    MigrateDialog #migrate-checks {
        height: auto;
        margin: 1 0;
    }
    """

    BINDINGS = [
        Binding("escape", "dismiss_dialog", "Cancel", id="migrate-dialog.cancel", tooltip="Start nothing"),
        Binding("ctrl+s", "confirm", "Migrate", id="migrate-dialog.confirm",
                tooltip="Start the migration (once the pre-flight checks pass)"),
    ]

    def __init__(self, source: str, controls: Controls) -> None:
        """``controls``: the fleet's states, and its sessions for the checks (which change nothing)."""
        super().__init__()
        self.source = source
        self.controls = controls
        self.states = controls.states
        self._checked: MigrationRequest | None = None
        """The request the checks passed for (None: not passed, or not yet)."""
        self._passed: list[Text] = []
        self.hosts = migrate.libvirt_hosts(controls.session(source))
        """The libvirt hosts a libvirt domain can go to (None: a QMP VM, which goes to a waiting VM or a URI)."""
        self._measured: migrate.Guest | str | None = None
        """The source's guest as measured, or why it could not be measured."""

    def compose(self) -> ComposeResult:
        states = self.states
        # Waiting, and not already receiving another VM (the pre-flight checks that too, from QEMU).
        waiting = sorted((name for name, state in states.items()
                          if name != self.source and state.link is LinkState.CONNECTED
                          and state.run_state == RunState.INMIGRATE
                          and not (state.incoming and state.latest is not None and state.latest.active)),
                         key=lambda name: (states[name].host or "", name))  # grouped by host
        options = [Option(f"{name}  {f'on {states[name].host}  ' if states[name].host else ''}"
                          "(waiting for an incoming migration)", id=name) for name in waiting]
        if self.hosts is None:
            options.append(Option("a URI, typed below", id=URI_OPTION))
        else:
            options = [Option(f"{host}  (libvirt host)", id=f"{HOST_OPTION}{host}") for host in self.hosts]
        capabilities = states[self.source].capabilities
        with Vertical(id="migrate-box", classes="dialog-box"):
            yield Label(f"Migrate {self.source}", classes="title")
            # Everything but the title and the buttons scrolls: the buttons stay in view at 80x24.
            with VerticalScroll(classes="dialog-body"):
                yield Label("to a VM of the fleet that waits for it, or to a URI:" if self.hosts is None
                            else "to another libvirt host (through libvirt, peer to peer):")
                yield OptionList(*options, id="migrate-destinations")
                yield OrderedInput(placeholder="tcp:HOST:PORT, unix:PATH, exec:COMMAND ...", id="migrate-uri",
                            disabled=self.hosts is not None)
                for name, label in OFFERED_CAPABILITIES:
                    yield TickBox(label, bool(capabilities.get(name)), id=f"cap-{name}")
                if self.hosts is not None:
                    for choice, label in LIBVIRT_CHOICES:
                        yield TickBox(label, False, id=choice)
                yield Select([(f"policy: {name}", name) for name in list_policies()],
                             prompt="no policy (advice on screen only)", id="migrate-policy")
                yield Static("", id="migrate-checks")
            with Horizontal(id="migrate-buttons", classes="dialog-buttons"):
                yield Button("Cancel (Esc)", id="migrate-cancel")
                yield Button("Migrate (Ctrl+S)", id="migrate-go", variant="warning", disabled=True)

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.highlighted = 0
        options.focus()
        if self.hosts is not None:
            self.query_one("#migrate-uri", Input).display = False
        elif options.option_count == 1:
            self.query_one("#migrate-uri", Input).focus()
        self.recheck()
        self.measure()

    # -- the request on screen ----------------------------------------------

    def request(self) -> MigrationRequest | str:
        """The request the form describes, or why it describes none."""
        capabilities = {name: self.query_one(f"#cap-{name}", Checkbox).value for name, _ in OFFERED_CAPABILITIES}
        options = self.query_one(OptionList)
        chosen = options.get_option_at_index(options.highlighted).id if options.highlighted is not None else None
        # Only send what changes on either side: a box left as both sides have it
        # stays untouched; one that differs from the destination is set there too.
        sides = [self.states[self.source].capabilities]
        if chosen and chosen != URI_OPTION and not chosen.startswith(HOST_OPTION):
            sides.append(self.states[chosen].capabilities)
        plan = MigrationPlan(capabilities={name: on for name, on in capabilities.items()
                                           if any(bool(caps.get(name)) != on for caps in sides)})
        picked = self.query_one("#migrate-policy", Select).value
        policy = picked if isinstance(picked, str) else None
        if self.hosts is not None:
            if not chosen:
                return "No other libvirt host in the inventory to migrate to."
            plan = replace(plan, persist_destination=not self.query_one(f"#{TRANSIENT}", Checkbox).value,
                           undefine_source=not self.query_one(f"#{KEEP_SOURCE}", Checkbox).value)
            return MigrationRequest(self.source, host=chosen.removeprefix(HOST_OPTION), plan=plan, policy=policy)
        if chosen and chosen != URI_OPTION:
            return MigrationRequest(self.source, destination=chosen, plan=plan, policy=policy)
        uri = self.query_one("#migrate-uri", Input).value.strip()
        if not uri:
            return "Choose a waiting VM, or type a URI."
        if not uri.startswith(URI_SCHEMES):
            return f"{uri!r} is not a migration URI: it starts with one of {', '.join(URI_SCHEMES)}"
        return MigrationRequest(self.source, uri=uri, plan=plan, policy=policy)

    @on(OptionList.OptionHighlighted)
    @on(Checkbox.Changed)
    @on(Select.Changed)
    def _choice_changed(self) -> None:
        self.recheck()

    @on(Input.Changed, "#migrate-uri")
    def _uri_typed(self, event: Input.Changed) -> None:
        options = self.query_one(OptionList)
        if event.value and options.highlighted != options.option_count - 1:
            options.highlighted = options.option_count - 1  # typing a URI chooses the URI
        self.recheck()

    @on(OptionList.OptionSelected)
    def _option_selected(self, event: OptionList.OptionSelected) -> None:
        target = "#migrate-uri" if event.option.id == URI_OPTION else "#migrate-go"
        self.query_one(target).focus()

    @on(Input.Submitted, "#migrate-uri")
    def _uri_submitted(self) -> None:
        self.action_confirm()

    # -- pre-flight ---------------------------------------------------------

    def recheck(self) -> None:
        self._checked = None
        self.query_one("#migrate-go", Button).disabled = True
        request = self.request()
        if isinstance(request, str):
            self._show([Text(request, style="italic")])
            return
        self._show([Text("checking ...", style="italic")])
        self.run_checks(request)

    @work(exclusive=True, exit_on_error=False, group="preflight", name="The pre-flight checks")
    async def run_checks(self, request: MigrationRequest) -> None:
        session = self.controls.session
        destination = session(request.destination) if request.destination else request.host
        try:
            problems = await migrate.preflight(session(self.source), destination, request.plan)
        except MigtuiError as error:  # a side unreachable, or QEMU refusing a query: its words
            problems = [str(error)]
        if self.request() != request:
            return  # the form changed while QEMU answered; a newer check runs
        if problems:
            self._show([Text(f"✗ {problem}") for problem in problems])
            return
        passed = [f"✓ {self.source} can migrate (running or paused, not migrating already)"]
        if request.host:
            passed.append(f"✓ {request.host} answers and runs no {self.source}, can run its CPU, "
                          "has a QEMU no older")
            if request.plan.undefine_source and not request.plan.persist_destination:
                passed.append(f"! transient on {request.host} and undefined on its source: no host keeps "
                              f"{self.source}'s definition (it is gone once it stops)")
        elif request.destination:
            passed.append(f"✓ {request.destination} waits for an incoming migration")
            passed.append(f"✓ capabilities that must match do ({', '.join(MATCHING_CAPABILITIES[:3])} ...)")
        else:
            passed.append(f"  what listens at {request.uri} cannot be checked from here")
        self._passed = [Text(line) for line in passed]
        self._show(self._passed + self._outlook(request))
        self._checked = request
        self.query_one("#migrate-go", Button).disabled = False

    @work(exit_on_error=False, group="measure")
    async def measure(self) -> None:
        """The source's dirty rate, sampled once when the dialog opens (the settings chosen change
        the outlook, not the guest); nothing of the VM is changed."""
        try:
            self._measured = await migrate.measure(self.controls.session(self.source))
        except MigtuiError as error:
            self._measured = str(error)
        if self._checked is not None:
            self._show(self._passed + self._outlook(self._checked))

    def _outlook(self, request: MigrationRequest) -> list[Text]:
        """What the migration would take at the settings it would run with, by the model."""
        if self._measured is None:
            return [Text("measuring the dirty rate (3 s) ...", style="italic")]
        if isinstance(self._measured, str):
            return [Text(f"no outlook: {self._measured}", style="italic")]
        state = self.states[self.source]
        prediction = migrate.outlook(self._measured, {**state.parameters, **request.plan.parameters},
                                     {**state.capabilities, **request.plan.capabilities})
        # The first reason is the first pass, with the speed assumed when nothing caps it (libvirt's default).
        return [Text(f"Outlook: {prediction.summary}", style="bold"),
                *(Text(f"  {reason}", style="dim") for reason in prediction.reasons[:1]),
                *(Text(f"  → {action.text}") for action in prediction.actions)]

    def _show(self, lines: list[Text]) -> None:
        self.query_one("#migrate-checks", Static).update(Text("\n").join([Text("Pre-flight checks:"), *lines]))

    # -- answers ------------------------------------------------------------

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "migrate-go":
            self.action_confirm()
        else:
            self.dismiss(None)

    def action_confirm(self) -> None:
        if self._checked is not None and self._checked == self.request():
            self.dismiss(self._checked)
        elif self._checked is None:
            self.notify("The pre-flight checks have not passed for this choice.", severity="warning")

    def action_dismiss_dialog(self) -> None:
        self.dismiss(None)
