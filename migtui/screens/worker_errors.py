"""Worker failures of a screen, shown to the user.

A worker reports its end with ``Worker.StateChanged``, posted to the node
that started it and not bubbling: the App never hears of a screen's worker
that failed, and an ``exit_on_error=False`` worker then fails in silence (a
blank editor, a dialog stuck on "checking ..."). Every screen that runs
workers mixes this in, so each failure reaches the App's one error path:
a notification (QEMU's words, a lost link) or an error screen (a bug),
and the log.
"""

from __future__ import annotations

from textual.worker import Worker, WorkerState


class ShowsWorkerErrors:
    """Mix into a Screen: its failed workers are reported by ``app.show_error``."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if event.state is WorkerState.ERROR and worker.error is not None:
            self.app.show_error(worker.error, worker.name or "A command")  # type: ignore[attr-defined]
