"""Migration parameters and capabilities of live VMs: read, validate, change, share.

What the CLI (``migtui params``, ``migtui migrate --set``) and the dashboard's
editor share, so both validate and send the same way:

- :mod:`.forms`: a VM's field specs and generated model, for the QEMU it runs;
- :mod:`.settings`: what a VM holds now, with those specs (:class:`VMSettings`);
- :mod:`.apply`: send only the changes, put back what changed if QEMU refuses,
  read the VM again;
- :mod:`.bulk`: the same request to several VMs at once, a preview and a result each;
- :mod:`.presets`: named sets of parameters and capabilities, as TOML files.

Every command goes through the VM's session, so the read-only gate and the
audit log apply. Never imports Textual.
"""

from migtui.params.apply import Applied, SettingsRefused, apply_changes
from migtui.params.bulk import BulkResult, apply_to_many
from migtui.params.presets import Preset, list_presets, load_preset, save_preset
from migtui.params.settings import VMSettings, read_settings

__all__ = [
    "Applied", "BulkResult", "Preset", "SettingsRefused", "VMSettings", "apply_changes", "apply_to_many",
    "list_presets", "load_preset", "read_settings", "save_preset",
]  # fmt: skip
