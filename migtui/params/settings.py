"""What one VM holds now: its parameters and capabilities, with the forms of its QEMU."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from migtui.params.forms import VMForms, forms_of
from migtui.qapi.changes import ChangeSet, SettingsRequest, change_set, validate_request
from migtui.qapi.entities import EnumValue
from migtui.qapi.fields import FieldSpec
from migtui.qapi.models import ArgumentsModel
from migtui.qmp.queries import Queries
from migtui.qmp.replies import capability_states


@dataclass(frozen=True)
class VMSettings:
    """A VM's ``query-migrate-parameters`` and ``query-migrate-capabilities``, and how to edit them."""

    vm: str
    forms: VMForms
    parameters: dict[str, Any]
    """As QEMU reported them (a member it does not report is absent)."""
    capabilities: dict[str, bool]

    @property
    def qemu(self) -> str:
        return self.forms.qemu

    @property
    def specs(self) -> tuple[FieldSpec, ...]:
        return self.forms.parameters

    @property
    def capability_values(self) -> tuple[EnumValue, ...]:
        return self.forms.capabilities

    @property
    def settable_parameters(self) -> dict[str, Any]:
        """What the VM holds, for the members ``migrate-set-parameters`` takes (a preset of "now")."""
        return {spec.name: self.parameters[spec.name] for spec in self.specs if spec.name in self.parameters}

    @property
    def model(self) -> type[ArgumentsModel]:
        return self.forms.model

    def request(self, parameters: Mapping[str, Any] | None = None,
                capabilities: Mapping[str, Any] | None = None) -> SettingsRequest:
        """Validate values for this VM's QEMU; :class:`~migtui.qapi.errors.FieldErrors` if any is refused."""
        names = [value.name for value in self.forms.capabilities]
        return validate_request(self.model, names, parameters or {}, capabilities or {})

    def changes(self, request: SettingsRequest) -> ChangeSet:
        """What ``request`` would change on this VM now."""
        return change_set(request, self.model, self.parameters, self.capabilities)

    def with_values(self, parameters: dict[str, Any], capabilities: dict[str, bool]) -> VMSettings:
        return replace(self, parameters=parameters, capabilities=capabilities)


async def read_settings(session: Queries) -> VMSettings:
    """The VM's current parameters and capabilities with the specs of its QEMU."""
    forms = await forms_of(session)
    parameters, capabilities = await read_values(session)
    return VMSettings(session.name, forms, parameters, capabilities)


async def read_values(session: Queries) -> tuple[dict[str, Any], dict[str, bool]]:
    parameters = dict(await session.query("query-migrate-parameters"))
    capabilities = capability_states(await session.query_list("query-migrate-capabilities"))
    return parameters, capabilities
