"""Textual's Footer, recomposed only when the keys it shows really change.

The stock Footer rebuilds all its key widgets (a recompose: ~60 widgets mounted,
styled and laid out) on every ``refresh_bindings``, and Textual itself calls that
on every focus change; the main screen calls it whenever the selection or the page
changes.  That cost ~150-250 ms of event-loop time per page key.  This footer
compares what it would show with what it shows and skips the rebuild when equal.
"""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Footer


class KeyFooter(Footer):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._shown: tuple | None = None  # what the last compose showed
        self._check_pending = False

    def _signature(self) -> tuple:
        """Everything compose() reads from the bindings, in order."""
        app = self.app
        rows = []
        for key, (_node, binding, enabled, tooltip) in self.screen.active_bindings.items():
            if binding.show or key == app.COMMAND_PALETTE_BINDING:
                group = binding.group
                rows.append((
                    key, binding.action, binding.description, binding.key_display, enabled, tooltip,
                    binding.show, group.description if group else None, group.compact if group else None,
                ))
        return (self.show_command_palette, app.ENABLE_COMMAND_PALETTE, tuple(rows))

    def bindings_changed(self, screen: Screen) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen and not self._check_pending:
            # many refreshes in one frame (focus + highlight + page) check once
            self._check_pending = True
            self.call_after_refresh(self._recompose_if_changed)

    async def _recompose_if_changed(self) -> None:
        self._check_pending = False
        if not self.is_attached:
            return
        signature = self._signature()
        if signature == self._shown:
            return
        self._shown = signature
        await self.recompose()
