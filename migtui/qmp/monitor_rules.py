"""What migtui may do through a VM's monitor, asked by the forms, the gate and the screens.

Over its own QMP link migtui may do everything QEMU has: these are the rules of a
:class:`~migtui.qmp.session.VMSession`. A VM another tool manages overrides them: a
libvirt domain (:class:`~migtui.libvirt.domain_session.DomainSession`) sets what libvirt
has calls for, names what a passthrough does, and leaves its snapshots to libvirt.
"""

from __future__ import annotations

from collections.abc import Collection

from migtui.qmp.queries import Settable


class QMPMonitorRules:
    @property
    def settable(self) -> Settable | None:
        """Every migration setting of QEMU's can be set through a QMP link."""
        return None

    def consequence(self, names: Collection[str]) -> str | None:
        """Settings sent over a QMP link do nothing beyond QEMU."""
        return None

    @property
    def read_only_reason(self) -> str | None:
        """Why this VM takes no change whatever the gate's mode (None: it takes them)."""
        return None

    @property
    def snapshots_refused(self) -> str | None:
        """Why migtui runs no snapshot job on this VM (None: it runs them)."""
        return None
