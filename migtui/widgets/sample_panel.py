"""The latest sample of a VM, every field, updated in place."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import DataTable

from migtui.model.sample import Sample
from migtui.widgets.sample_fields import sample_fields


class SamplePanel(DataTable[Text]):
    """Field and value of the VM's newest ``query-migrate`` sample.

    Values are updated in place; the rows are laid out again only when a
    field appears (xbzrle-cache once xbzrle runs) or vanishes
    (cpu-throttle-percentage once throttling stops).
    """

    DEFAULT_CSS = """
    SamplePanel {
        height: 1fr;
        background: $surface;
    }
    """

    sample: reactive[Sample | None] = reactive(None)
    """The sample shown; bound from the VM screen."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, id=id)

    def on_mount(self) -> None:
        self.add_column("field", key="field", width=34)
        self.add_column("value", key="value", width=48)
        self.watch_sample()

    def watch_sample(self) -> None:
        if not self.is_mounted or not self.columns:
            return
        fields = {"status": "no migration sample yet"} if self.sample is None else dict(sample_fields(self.sample))
        if list(fields) != [row.key.value for row in self.ordered_rows]:
            # A field appeared or vanished (rare): lay the rows out again in QEMU's order.
            self.clear()
            for key, value in fields.items():
                self.add_row(Text(key), Text(value), key=key)
            return
        for key, value in fields.items():
            if self.get_cell(key, "value").plain != value:
                self.update_cell(key, "value", Text(value))
