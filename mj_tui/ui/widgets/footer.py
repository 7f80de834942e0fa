"""The key footer, drawn as one line of text instead of a widget per key.

Textual's Footer rebuilds a widget per key (a recompose: ~20-60 widgets mounted,
styled and laid out) on every ``refresh_bindings``, and Textual calls that on
every focus change; the main screen calls it when the selection or the page
changes.  That cost ~150-250 ms of event-loop time per page key
(benchmarks/ui_thread.py).  This footer reads the same active bindings, lays
them out the way Footer does (a key, its label; a compact group such as
``[]Page`` or ``1234 Zoom``; the command palette key on the right) and only
repaints, and only when what it shows changed.  A click on a key presses it.
"""

from __future__ import annotations

from itertools import groupby

from rich.cells import cell_len
from textual.content import Content
from textual.screen import Screen
from textual.widget import Widget

KEY = "bold $footer-key-foreground on $footer-key-background"
DESCRIPTION = "$footer-description-foreground on $footer-description-background"
DISABLED = "dim"


class KeyFooter(Widget):
    ALLOW_SELECT = False
    DEFAULT_CSS = """
    KeyFooter {
        dock: bottom;
        height: 1;
        width: 1fr;
        color: $footer-foreground;
        background: $footer-background;
        text-wrap: nowrap;
        link-style: not underline;
        link-style-hover: bold not underline;
        link-background-hover: $block-hover-background;
    }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._shown: tuple | None = None  # the rows the last render drew
        self._check_pending = False

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self.bindings_changed)
        self.bindings_changed(self.screen)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    # -- what to show -----------------------------------------------------------------
    def _rows(self) -> tuple:
        """(key, key display, description, action, enabled, group, compact) per shown action."""
        app = self.app
        seen: set[str] = set()
        rows = []
        palette = None
        for key, (_node, binding, enabled, _tooltip) in self.screen.active_bindings.items():
            if key == app.COMMAND_PALETTE_BINDING and app.ENABLE_COMMAND_PALETTE:
                palette = (key, app.get_key_display(binding), binding.description, binding.action, enabled, None, False)
            if not binding.show or binding.action in seen:
                continue  # like Footer: the first key of an action stands for it
            seen.add(binding.action)
            group = binding.group
            rows.append(
                (
                    key,
                    app.get_key_display(binding),
                    binding.description,
                    binding.action,
                    enabled,
                    group.description if group else None,
                    bool(group and group.compact),
                )
            )
        return tuple(rows), palette

    def bindings_changed(self, screen: Screen) -> None:
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen and not self._check_pending:
            # many refreshes in one frame (focus + highlight + page) check once
            self._check_pending = True
            self.call_after_refresh(self._refresh_if_changed)

    def _refresh_if_changed(self) -> None:
        self._check_pending = False
        if not self.is_attached:
            return
        rows = self._rows()
        if rows != self._shown:
            self._shown = rows
            self.refresh()

    # -- drawing ----------------------------------------------------------------------
    @staticmethod
    def _press(key: str, text: str, style: str, enabled: bool) -> Content:
        style = f"{style} {DISABLED}" if not enabled else style
        # key names are plain ("ctrl+j", "left_square_bracket"); the label goes in as a variable
        safe = "".join(ch for ch in key if ch.isalnum() or ch in "+_-")
        return Content.from_markup(f"[@click=app.simulate_key('{safe}')]$text[/]", text=text).stylize(style)

    def _group(self, rows: list[tuple]) -> Content:
        _, _, _, _, _, label, compact = rows[0]
        if len(rows) == 1 or label is None:
            return Content("").join(self._single(row) for row in rows)
        keys = [
            self._press(key, display if compact else f" {display} ", KEY, enabled)
            for key, display, _, _, enabled, _, _ in rows
        ]
        return Content.assemble(" ", *keys, Content.styled(f" {label} ", DESCRIPTION))

    def _single(self, row: tuple) -> Content:
        key, display, description, _action, enabled, _, _ = row
        if not description:
            return self._press(key, f" {display} ", KEY, enabled)
        return Content.assemble(
            self._press(key, f" {display} ", KEY, enabled),
            self._press(key, f"{description} ", DESCRIPTION, enabled),
        )

    def render(self) -> Content:
        if self._shown is None:
            self._shown = self._rows()
        rows, palette = self._shown
        parts: list[Content] = []  # what is kept or left out whole: a key, or a group of keys
        for label, members in groupby(rows, key=lambda row: row[5]):
            group = list(members)
            parts += [self._single(row) for row in group] if label is None else [self._group(group)]
        if palette is None:
            return Content("").join(parts)
        return self._with_palette(parts, palette)

    def _with_palette(self, parts: list[Content], palette: tuple) -> Content:
        key, display, description, _action, enabled, _, _ = palette
        right = Content.assemble(
            Content.styled("▏", "$foreground 20%"),
            self._press(key, display, KEY, enabled),
            self._press(key, f" {description} ", DESCRIPTION, enabled),
        )
        width = self.size.width
        room = width - cell_len(right.plain)
        if room <= 0:
            return Content("").join(parts)
        # whole keys only: "a Actio…" reads as nothing; the keys left out still work, and
        # f1 lists them all
        kept: list[Content] = []
        used = 0
        for part in parts:
            size = cell_len(part.plain)
            if used + size > room - (1 if len(kept) + 1 < len(parts) else 0):
                break
            kept.append(part)
            used += size
        left = Content("").join(kept)
        if len(kept) < len(parts):
            left = left.append("…")
        return Content.assemble(left, " " * max(0, room - cell_len(left.plain)), right)
