"""Migrate a VM: the pre-flight, the start, the words for it, and the outlook before it starts (the dry run).

The outlook is what the model predicts from the guest's dirty rate, measured
without changing anything (``calc-dirty-rate``), at the settings the
migration would run with: ``migtui migrate --dry-run`` prints it, the
dashboard's migrate dialog shows it under the pre-flight checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from migtui.errors import UsageError
from migtui.libvirt import migrate as libvirt_migrate
from migtui.libvirt.domain_session import DomainSession
from migtui.model.before import predict_before
from migtui.model.controls import Control
from migtui.model.convergence import Prediction
from migtui.model.vm_state import settings_of
from migtui.qmp import migration
from migtui.qmp import migration as qmp_migration
from migtui.qmp.dirty_rate import measure_guest
from migtui.qmp.migration import MigrationPlan
from migtui.qmp.queries import Queries
from migtui.qmp.session import VMSession
from migtui.units import human_bytes, human_rate

CONTROL = Control.MIGRATE
__all__ = ["CONTROL", "Guest", "MigrationPlan", "measure", "outcome", "outlook", "preflight", "start"]


@dataclass(frozen=True)
class Guest:
    """The source's guest as measured before a migration: what the outlook is built on."""

    dirty_rate: float
    """Bytes a second."""
    working_set: int | None
    """Bytes rewritten again and again, when sampling found such a set (its true rate is then unknown)."""
    ram: int

    def words(self) -> str:
        does = (f"rewrites {human_bytes(self.working_set)} again and again" if self.working_set
                else f"dirties {human_rate(self.dirty_rate)}")
        return f"{does} ({human_bytes(self.ram)} of RAM)"


async def measure(source: Queries) -> Guest:
    """The guest's dirty rate (sampled over 1 s and 2 s) and RAM; nothing of the VM changes."""
    rate, working_set = await measure_guest(source)
    ram = int((await source.query("query-memory-size-summary"))["base-memory"])
    return Guest(rate, working_set, ram)


def outlook(guest: Guest, parameters: dict[str, Any], capabilities: dict[str, bool]) -> Prediction:
    """What the migration would take at these settings, by the model."""
    return predict_before(guest.dirty_rate, guest.ram, settings_of(parameters, capabilities), guest.working_set)


def libvirt_hosts(source: Queries) -> list[str] | None:
    """For a libvirt domain, the other libvirt hosts it can migrate to (None: not a libvirt domain)."""
    if not isinstance(source, DomainSession):
        return None
    return sorted(name for name in source.hosts if name != source.home.name)


async def preflight(source: Queries, destination: Queries | str | None, plan: MigrationPlan | None = None) -> list[str]:
    """Problems that would make the migration fail at once (empty: go ahead); nothing changes.
    A libvirt domain's destination is a libvirt host's name, and libvirt is asked."""
    if isinstance(source, DomainSession) and destination is not None:
        if not isinstance(destination, str):
            return [f"{source.name} is a libvirt domain: it migrates to another libvirt host"]
        try:
            libvirt_migrate.migrate_arguments(plan or MigrationPlan(), libvirt_migrate.destination_host(source,
                                                                                                         destination))
        except UsageError as wrong:
            return [str(wrong)]
        return await libvirt_migrate.preflight(source, libvirt_migrate.destination_host(source, destination))
    if isinstance(destination, str):
        return [f"{destination!r} is no VM of the fleet"]
    return await qmp_migration.preflight(source, destination, plan)


async def start(source: VMSession, target: VMSession | str, plan: MigrationPlan, check: bool = True) -> str:
    """Prepare both sides and start (the pre-flight first, unless ``check`` is off); the URI.

    A libvirt domain migrates through libvirt to the libvirt host named ``target``."""
    if isinstance(source, DomainSession):
        if not isinstance(target, str):
            raise UsageError(f"{source.name} is a libvirt domain: it migrates to a libvirt host, not to {target.name}")
        return await libvirt_migrate.start(source, target, plan, check=check)
    return await migration.start_migration(source, target, plan, check=check)


def outcome(vm: str, target: str, uri: str) -> str:
    """'migrating web-1 to web-1-dst (tcp:hv2:4444)'; a URI typed as the target is said once."""
    return f"migrating {vm} to {target}" + (f" ({uri})" if uri != target else "")
