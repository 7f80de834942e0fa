"""Every key, grouped by where it works, with the user's keymap applied (f1 or ?)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Label, Static

from ..keys import CHORDS, bindings_of, help_rows
from ..look import MUTED
from .dialog import Dialog


def _sections():
    # imported here: the help screen is opened rarely, the panes are already loaded
    from ..app import MjApp
    from ..widgets.action_bar import ActionBar
    from ..widgets.composer import Composer
    from ..widgets.mask_editor import MaskEditor
    from ..widgets.search_line import SearchLine
    from .confirm import ConfirmDialog
    from .gallery import GalleryScreen
    from .main import MainScreen
    from .modal_prompt import PromptDialog
    from .pick_images import ImageTree, PickImagesDialog
    from .pick_prompt import PickPromptDialog
    from .region import RegionDialog

    return [
        ("Everywhere", [MjApp, MainScreen]),
        ("Prompt", [Composer]),
        ("Actions bar", [ActionBar]),
        ("Search line (/): the list follows the typing", [SearchLine]),
        ("Gallery (f4 / i): thumbnails of the list", [GalleryScreen]),
        ("Prompt dialogs (Remix, Custom Zoom)", [PromptDialog]),
        ("Vary (Region): areas to repaint", [MaskEditor, RegionDialog]),
        ("Blend / Describe: pick images", [PickImagesDialog, ImageTree]),
        ("Describe / Shorten results", [PickPromptDialog]),
        ("Paid-jobs question", [ConfirmDialog]),
    ]


def search_rows() -> list[tuple[str, str]]:
    from ...core.search import TERMS

    return [
        ("words", 'in the prompt (the last one as a prefix); "a phrase"; -word excludes'),
        *((f"{name}:" if name != "niji" else name, what) for name, what in TERMS),
    ]


class HelpScreen(Dialog[None]):
    BINDINGS = [Binding("escape,f1,q,question_mark", "dismiss", "Close", id="help-close")]

    def compose(self) -> ComposeResult:
        keymap = getattr(self.app, "keymap", {})
        with Vertical(id="help", classes="dialog"):
            yield Label(
                Content.assemble(("mj-tui keys", "bold"), ("   escape or f1 closes", MUTED)),
                classes="dialog-title",
            )
            with VerticalScroll(id="help-body"):
                for title, classes in _sections():
                    rows = help_rows(self.app, bindings_of(classes), keymap)
                    yield Static(self._section(title, rows), classes="help-section")
                yield Static(self._section("Sequences and more", CHORDS), classes="help-section")
                yield Static(
                    self._section("Search terms (all must match; -term leaves out)", search_rows()),
                    classes="help-section",
                )
                yield Static(self._pictures(), classes="help-section")
                yield Static(
                    Content.styled(
                        "Keys can be changed in the config file's [keymap] table, by binding id "
                        '(e.g. submit = "ctrl+s"). Run `textual keys` to see what your terminal sends.',
                        MUTED,
                    ),
                    classes="help-section",
                )

    def _pictures(self) -> Content:
        from ..graphics import summary_rows

        rows = [*summary_rows(self.app), ("override", "--graphics auto|tgp|sixel|halfcell|unicode|none")]
        return self._section("Pictures: what the terminal said (mj-tui doctor asks again)", rows)

    @staticmethod
    def _section(title: str, rows: list[tuple[str, str]]) -> Content:
        width = max((len(k) for k, _ in rows), default=0) + 2
        lines = [Content.styled(title, "bold $accent")]
        for keys, what in rows:
            lines.append(Content.assemble((keys.ljust(width), "bold"), what))
        return Content("\n").join(lines)
