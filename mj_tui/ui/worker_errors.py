"""Worker failures become toasts in one place (harlequin style).

Textual sends ``Worker.StateChanged`` only to the node that started the
worker (it does not bubble), so every node that runs workers mixes this in;
the formatting itself lives in ``MjApp.report_error`` alone.
"""

from __future__ import annotations

from textual.worker import Worker, WorkerState


class ReportWorkerErrors:
    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            self.app.report_error(event.worker.error)  # type: ignore[attr-defined]
