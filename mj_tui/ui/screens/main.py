"""The main screen: tasks, prompt, preview and actions, and the keys between them.

Layout and key routing live here. What the keys start is in the flows
(:mod:`mj_tui.ui.flows`), and the state between key presses in the screen's
:class:`~mj_tui.ui.session.Session`; the panes only display.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from textual import getters, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.reactive import Reactive
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import TextArea
from textual.worker import Worker, WorkerState

from ...core import pricing
from ...core.config import data_dir
from ...core.errors import OutcomeUnknown, QueueFull
from ...core.history import History
from ...core.models import Button, ButtonKind, Status, Task
from ...core.search import word_span
from ..flows.buttons import Buttons
from ..flows.connection import Connection
from ..flows.files import Files
from ..flows.library import Library
from ..flows.lineage import Lineage
from ..flows.media import Media
from ..flows.pictures import Pictures
from ..flows.prompts import Prompts
from ..flows.queue import QueueFlow
from ..messages import ActionRequested, PromptSubmitted, TaskActivated, TaskHighlighted
from ..prompt_history import PromptHistory
from ..session import Session, SessionChanged
from ..widgets.action_bar import ActionBar
from ..widgets.composer import Composer
from ..widgets.footer import KeyFooter
from ..widgets.header import AppHeader
from ..widgets.mode_chip import ModeChip
from ..widgets.preview import PreviewPane
from ..widgets.search_line import SearchLine
from ..widgets.task_list import TaskList
from ..worker_errors import ReportWorkerErrors

if TYPE_CHECKING:
    from ...core.service import MjService
    from ...launch import Launch
    from ..app import MjApp
    from .gallery import GalleryChoice, GalleryScreen

ZOOM = Binding.Group("Zoom", compact=True)
PAGE = Binding.Group("Page", compact=True)
# keys that type text: they only act when the prompt box is not focused
TYPING_KEYS = {
    "quadrant",
    "unzoom",
    "chord",
    "reroll",
    "page",
    "page_to",
    "focus_pane",
    "toggle_preview",
    "save",
    "copy_url",
    "copy_prompt",
    "open_browser",
    "parent",
    "dismiss_task",
    "gallery",
    "search",
    "star",
    "tags",
    "queue_view_letter",
    "seed",
}


class MainScreen(ReportWorkerErrors, Screen[None]):
    # the prompt box has the focus from the start: focusing the task list first (Textual's
    # default) and moving it in on_mount restyled the composer twice before the first frame
    AUTO_FOCUS = "#prompt"
    # a focus change restyles the widgets it changes; Textual's default also repaints the whole
    # screen, which would send every Sixel picture again (see ui/sixel_image.py)
    focused: Reactive[Widget | None] = Reactive(None, repaint=False)
    BINDINGS = [
        Binding("ctrl+j,ctrl+s", "submit", "Send", id="submit", priority=True, tooltip="Send the prompt"),
        Binding("ctrl+t", "cycle_mode", "Mode", id="cycle-mode", priority=True, tooltip="Next speed mode"),
        Binding(
            "f5,ctrl+r",
            "refresh",
            "Refresh",
            id="refresh",
            priority=True,
            tooltip="Reload this page and the selected task",
        ),
        Binding(
            "left_square_bracket",
            "page(-1)",
            "Page",
            id="page-prev",
            key_display="[",
            group=PAGE,
            tooltip="Previous page",
        ),
        Binding(
            "right_square_bracket", "page(1)", "Page", id="page-next", key_display="]", group=PAGE, tooltip="Next page"
        ),
        Binding(
            "left_curly_bracket",
            "page_to('first')",
            "First page",
            id="page-first",
            key_display="{",
            show=False,
            tooltip="First page (the newest tasks)",
        ),
        Binding(
            "right_curly_bracket",
            "page_to('last')",
            "Last page",
            id="page-last",
            key_display="}",
            show=False,
            tooltip="Last page (the oldest tasks)",
        ),
        Binding("1", "quadrant(1)", "Zoom", id="zoom-1", group=ZOOM, tooltip="Zoom into quadrant 1 (U1/V1)"),
        Binding("2", "quadrant(2)", "Zoom", id="zoom-2", group=ZOOM, tooltip="Zoom into quadrant 2"),
        Binding("3", "quadrant(3)", "Zoom", id="zoom-3", group=ZOOM, tooltip="Zoom into quadrant 3"),
        Binding("4", "quadrant(4)", "Zoom", id="zoom-4", group=ZOOM, tooltip="Zoom into quadrant 4"),
        Binding("0,escape", "unzoom", "Grid", id="unzoom", show=False, tooltip="Back to the whole grid"),
        Binding("u", "chord('u')", "U", id="upscale", show=False, tooltip="Upscale: u then 1-4"),
        Binding("v", "chord('v')", "V", id="vary", show=False, tooltip="Variations: v then 1-4"),
        Binding("r", "reroll", "Reroll", id="reroll", show=False, tooltip="Reroll the grid"),
        Binding(
            "a", "focus_pane('actions')", "Actions", id="focus-actions", tooltip="Focus the action bar (arrows, enter)"
        ),
        Binding("n", "focus_pane('composer')", "New", id="focus-prompt", tooltip="Write a new prompt"),
        Binding(
            "p,f3", "toggle_preview", "Preview", id="toggle-preview", show=False, tooltip="Show or hide the preview"
        ),
        # after the first grid: f-keys work from the prompt box too (priority: the TextArea
        # would take f6/f7 to select text), the letters where nothing is typed
        Binding(
            "f6",
            "blend",
            "Blend",
            id="blend",
            show=False,
            priority=True,
            key_display="f6 / b",
            tooltip="Blend 2-5 image files into a grid",
        ),
        Binding("b", "blend", id="blend-letter", show=False),
        Binding(
            "f7",
            "describe",
            "Describe",
            id="describe",
            show=False,
            priority=True,
            key_display="f7 / d",
            tooltip="Describe an image file: four prompts",
        ),
        Binding("d", "describe", id="describe-letter", show=False),
        Binding(
            "f4",
            "gallery",
            "Gallery",
            id="gallery",
            priority=True,
            key_display="f4 / i",
            tooltip="The list's pictures at a glance: a grid of thumbnails",
        ),
        Binding("i", "gallery", id="gallery-letter", show=False),
        Binding(
            "f9",
            "queue_view",
            "Queue",
            id="queue-view",
            priority=True,
            key_display="f9 / Q",
            tooltip="The local job queue: states, order, ETA; pause, reorder, cancel, retry",
        ),
        Binding("Q", "queue_view_letter", id="queue-view-letter", show=False),
        Binding(
            "ctrl+g",
            "queue_prompt",
            "Queue it",
            id="queue-prompt",
            show=False,
            priority=True,
            tooltip="Queue the prompt: it is sent when the provider has a free slot",
        ),
        Binding(
            "slash",
            "search",
            "Search",
            id="search",
            show=False,
            tooltip="Search the tasks: words of the prompt, status:failed, tag:name… (esc: all tasks)",
        ),
        Binding("asterisk", "star", "Star", id="star", show=False, tooltip="Star the selected task, or unstar it"),
        Binding("t", "tags", "Tags", id="tags", show=False, tooltip="Tag the selected task (edit its tags)"),
        Binding(
            "f8",
            "shorten",
            "Shorten",
            id="shorten",
            show=False,
            priority=True,
            tooltip="Shorten the prompt in the box (/shorten; midjourney-proxy only)",
        ),
        Binding(
            "s",
            "save",
            "Save",
            id="save",
            show=False,
            tooltip="Save the image (or the zoomed quadrant) to the pictures folder",
        ),
        Binding("y", "copy_url", "Copy URL", id="copy-url", show=False, tooltip="Copy the image URL"),
        Binding(
            "Y,shift+y", "copy_prompt", "Copy prompt", id="copy-prompt", show=False, tooltip="Copy the task's prompt"
        ),
        Binding(
            "o", "open_browser", "Open", id="open-browser", show=False, tooltip="Open the image (or video) in a browser"
        ),
        Binding("S", "seed", "Seed", id="seed", show=False, tooltip="Show and copy the task's seed (asked once)"),
        Binding("g", "parent", "Parent", id="parent", show=False, tooltip="Go to the task this one was made from"),
        Binding(
            "x",
            "dismiss_task",
            "Dismiss",
            id="dismiss",
            show=False,
            tooltip="Cancel a running task at the provider, or give up on one that waits for its prompt",
        ),
    ]

    def __init__(self, launch: Launch, history: History, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.history = history  # the local store: all the first frame needs
        self.session = Session(launch, self.post_message)
        self.connection = Connection(self)
        self.prompts = Prompts(self)
        self.buttons = Buttons(self)
        self.files = Files(self)
        self.pictures = Pictures(self)
        self.lineage = Lineage(self)
        self.library = Library(self)
        self.queue = QueueFlow(self)
        self.media = Media(self)
        self._gallery: GalleryScreen | None = None  # made on first use, then kept
        self.chord: str | None = None
        self._chord_timer: Timer | None = None
        # kept beside the history store, so a demo or a test keeps its own
        self.prompt_history = PromptHistory((launch.data_dir or data_dir()) / "prompt_history.json")

    if TYPE_CHECKING:  # the app's own attributes (now, image_class...) for the type checker
        app = getters.app(MjApp)

    @property
    def launch(self) -> Launch:
        return self.session.launch

    @property
    def service(self) -> MjService | None:
        """The connected service, or None in the first instant (and after a key change)."""
        return self.session.service

    @property
    def started(self) -> bool:
        """The panes are mounted and the first page is drawn."""
        return self.connection.started

    def compose(self) -> ComposeResult:
        app = self.app
        yield AppHeader(id="header")
        with Horizontal(id="body"):
            with Vertical(id="left"):
                yield SearchLine(lambda q, c: self.library.complete(q, c), word_span, id="search")
                yield TaskList(app.now, id="tasks")
                profile = self.launch.profile
                yield Composer(
                    (profile.default_mode,),  # the provider's full list arrives with the service
                    profile.default_mode,
                    self.prompt_history,
                    partial(pricing.price, profile.provider),
                    id="composer",
                )
            with Vertical(id="right"):
                yield PreviewPane(app.image_class, app.pixels_per_cell, app.now, id="preview")
                yield ActionBar(id="actions")
        yield KeyFooter()

    def on_mount(self) -> None:
        header = self.header
        header.profile = self.launch.profile.name
        header.provider = self.launch.profile.provider.label
        header.demo = self.launch.demo
        header.mode = str(self.composer.mode or "")
        header.queue_limit = self.session.queue_limit
        for area in self.query(TextArea):
            area.cursor_blink = self.app.blink_cursor
        self.composer.text_area.focus()
        self.connection.first_frame()

    def reconnect(self, launch: Launch) -> None:
        """A new key: the same screen, a new service."""
        self.connection.reconnect(launch)

    # -- panes ------------------------------------------------------------------------
    @property
    def header(self) -> AppHeader:
        return self.query_one(AppHeader)

    @property
    def tasks(self) -> TaskList:
        return self.query_one(TaskList)

    @property
    def composer(self) -> Composer:
        return self.query_one(Composer)

    @property
    def preview(self) -> PreviewPane:
        return self.query_one(PreviewPane)

    @property
    def actions(self) -> ActionBar:
        return self.query_one(ActionBar)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        typing = isinstance(self.focused, TextArea) or (
            self.focused is not None and self.focused.id in ("refs", "search-input")
        )
        if action in TYPING_KEYS and typing:
            return False  # let the prompt box have the key, and keep the footer short
        if action == "unzoom":  # (esc also leaves a search, from the list)
            return self.preview.quadrant is not None or self.chord is not None or bool(self.session.query)
        return True

    def on_descendant_focus(self) -> None:
        self.refresh_bindings()

    def on_descendant_blur(self) -> None:
        self.refresh_bindings()

    # -- routing ----------------------------------------------------------------------
    @on(TaskHighlighted)
    def _highlighted(self, event: TaskHighlighted) -> None:
        self.preview.show(event.task)
        self.actions.show(event.task)
        self.refresh_bindings()

    @on(TaskActivated)
    def _activated(self, event: TaskActivated) -> None:
        task = event.task
        if task.status == Status.MODAL:
            self.buttons.ask_modal(task)
        elif task.status == Status.UNCONFIRMED:
            self.prompts.send_again(task)
        elif task.status == Status.SUCCESS and self.files.offer_prompts(task):
            pass  # a describe or shorten: pick one of its prompts
        elif self.actions.buttons:
            self.set_focus(self.actions)

    @on(PromptSubmitted)
    def _prompt(self, event: PromptSubmitted) -> None:
        if event.queue:
            self.prompts.queue(event.prompt, event.mode, event.image_paths)
        else:
            self.prompts.submit(event.prompt, event.mode, event.image_paths)

    @on(ActionRequested)
    def _action(self, event: ActionRequested) -> None:
        self.press(event.task, event.button)

    @on(ModeChip.Changed, "#mode")
    def _mode(self, event: ModeChip.Changed) -> None:
        self.header.mode = str(event.value or "")

    @on(SearchLine.Changed)
    def _search_changed(self, event: SearchLine.Changed) -> None:
        self.library.changed(event.query)

    @on(SearchLine.Done)
    def _search_done(self) -> None:
        self.library.results()

    @on(SearchLine.Closed)
    def _search_closed(self) -> None:
        self.library.close_search()

    @on(TaskList.RowsChanged)
    def _rows(self, event: TaskList.RowsChanged) -> None:
        self.connection.fit_pages(event.rows)

    @on(SessionChanged)
    def _session_changed(self, event: SessionChanged) -> None:
        header = self.header
        header.running = event.running
        header.queue_limit = event.queue_limit
        header.spent = event.spent

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # the toast comes from ReportWorkerErrors' own handler (Textual calls each class's
        # handler in turn); here only what the session learns
        error = event.worker.error
        if event.state != WorkerState.ERROR:
            return
        if isinstance(error, QueueFull):
            self.session.learn_queue_limit(error.limit)
        elif isinstance(error, OutcomeUnknown):
            self.connection.task_added(error.task)  # on the list, to be resolved

    def press(self, task: Task, button: Button) -> None:
        """Press a task's button (a key, a click on the action bar, or the palette)."""
        self.buttons.press(task, button)

    # -- actions ----------------------------------------------------------------------
    def action_submit(self) -> None:
        # ctrl+j is a priority key: it is handled before the keys typed just before it
        # reach the prompt box (a paste, or typing ahead over a slow SSH link). Queue
        # the send behind them on the box itself, so the whole prompt goes.
        self.composer.text_area.call_later(self._submit_now)

    def _submit_now(self, queue: bool = False) -> None:
        problem = self.composer.submit(queue=queue)
        if problem:
            title = "Prompt not queued" if queue else "Prompt not sent"
            self.notify(problem, title=title, severity="warning", markup=False)
            self.set_focus(self.composer.text_area)

    def action_queue_prompt(self) -> None:
        """Put the prompt box's text in the local queue: it goes when a slot is free."""
        self.composer.text_area.call_later(partial(self._submit_now, True))

    def action_queue_view(self) -> None:
        """The queue: every job's state, place and ETA; pause, reorder, cancel, retry."""
        from .queue import QueueScreen

        if any(isinstance(s, QueueScreen) for s in self.app.screen_stack):
            return
        self.app.push_screen(QueueScreen(self.queue), self._from_queue)

    def action_seed(self) -> None:
        self.media.seed()

    def action_queue_view_letter(self) -> None:
        self.action_queue_view()

    def _from_queue(self, task_id: str | None) -> None:
        """Enter in the queue view: the list shows that job's task, selected."""
        if not task_id or self.service is None:
            return
        number = self.service.page_of(task_id, self.session.page_size)
        if number is None:
            self.notify("That task is not in the local history yet.", timeout=3, markup=False)
            return
        self.connection.show_page(number, select=task_id)
        self.set_focus(self.tasks)

    def action_cycle_mode(self) -> None:
        mode = self.composer.cycle_mode()
        if mode is None:
            self.notify("This provider offers no speed modes.", severity="warning")

    def action_refresh(self) -> None:
        self.connection.load_page(self.tasks.page.page if self.tasks.page else 1)
        if self.tasks.current is not None:  # midjourney-proxy pages are local: ask about this one
            self.connection.refresh_task(self.tasks.current.id)

    def action_page(self, step: int) -> None:
        page = self.tasks.page
        self.go_to_page((page.page if page else 1) + step)

    def action_page_to(self, where: str) -> None:
        page = self.tasks.page
        self.go_to_page(1 if where == "first" else (page.pages if page else 1))

    def go_to_page(self, number: int) -> None:
        """Show page `number` of the list (a bell where there is none)."""
        page = self.tasks.page
        last = page.pages if page else 1
        if not 1 <= number <= last or (page is not None and number == page.page and len(self.tasks.tasks)):
            self.app.bell()
            return
        self.connection.show_page(number)

    def palette_commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        """What the palette offers beyond the keys: (title, help, what it does)."""
        commands: list[tuple[str, str, Callable[[], object]]] = [
            ("Go to page…", "Show page N of the task list", self.action_ask_page),
            (
                "Sync history from the provider",
                "Read every task the provider keeps into this machine's store (searchable, resumable)",
                self.library.sync,
            ),
            (
                "Show the queue",
                "Every queued and running job: pause, reorder, cancel, retry (f9)",
                self.action_queue_view,
            ),
            (
                "Queue a prompt file…",
                "Run a file of prompts through the queue, one per line (also `mj-tui batch FILE`)",
                self.queue.open_file,
            ),
            ("Queue the prompt", "Put the prompt box's text in the queue (ctrl+g)", self.action_queue_prompt),
            *self.media.palette(),
            (
                "Export starred tasks…",
                "Save every starred picture into a folder, each with its prompt written in",
                partial(self.library.export, "starred"),
            ),
        ]
        if self.session.query:
            commands.append(
                (
                    "Export this search…",
                    "Save every picture the search finds into a folder, each with its prompt written in",
                    partial(self.library.export, "search"),
                )
            )
        return commands

    def action_ask_page(self) -> None:
        """Go to page N (from the palette): asks for the number."""
        from .ask import AskDialog

        page = self.tasks.page
        last = page.pages if page else 1

        def problem(text: str) -> str | None:
            if not text.strip().isdigit() or not 1 <= int(text) <= last:
                return f"A page from 1 to {last}."
            return None

        def chosen(text: str | None) -> None:
            if text is not None:
                self.go_to_page(int(text))

        current = str(page.page) if page else "1"
        dialog = AskDialog(f"Go to page · 1 to {last}", "The page number:", current, validate=problem)
        self.app.push_screen(dialog, chosen)

    def _chord_kind(self, letter: str) -> ButtonKind:
        """u: a grid's upscale, or a batch of videos' U (one video on its own); v: vary."""
        if letter != "u":
            return ButtonKind.VARIATION
        if self.actions.find(ButtonKind.UPSCALE) is None and self.actions.find(ButtonKind.VIDEO_UPSCALE):
            return ButtonKind.VIDEO_UPSCALE
        return ButtonKind.UPSCALE

    def action_quadrant(self, n: int) -> None:
        if self.chord:
            kind = self._chord_kind(self.chord)
            self._end_chord()
            self._press_kind(kind, n)
            return
        if not self.preview.zoom(n):
            self.notify("Zoom works on a finished grid.", severity="warning", timeout=2)
        self.refresh_bindings()

    def action_unzoom(self) -> None:
        if self.chord:
            self._end_chord()
            return
        if self.preview.quadrant is None and self.session.query:
            self.library.close_search()
            return
        self.preview.zoom(None)
        self.refresh_bindings()

    def action_chord(self, letter: str) -> None:
        kind = self._chord_kind(letter)
        if self.actions.find(kind) is None:
            self.notify(f"The selected task has no {letter.upper()} buttons.", severity="warning", timeout=2)
            return
        if self.preview.quadrant:
            self._press_kind(kind, self.preview.quadrant)
            return
        self.chord = letter
        self.actions.set_hint(f"{letter.upper()}… press 1-4 (esc cancels)")
        if self._chord_timer is not None:
            self._chord_timer.stop()
        self._chord_timer = self.set_timer(4, self._end_chord)
        self.refresh_bindings()

    def _end_chord(self) -> None:
        self.chord = None
        if self._chord_timer is not None:
            self._chord_timer.stop()
            self._chord_timer = None
        self.actions.set_hint(None)
        self.refresh_bindings()

    def action_reroll(self) -> None:
        self._press_kind(ButtonKind.REROLL, None)

    def _press_kind(self, kind: ButtonKind, index: int | None) -> None:
        button = self.actions.find(kind, index)
        task = self.actions.shown_task
        if button is None or task is None:
            self.notify("The selected task has no such button.", severity="warning", timeout=2)
            return
        self.press(task, button)

    def action_focus_pane(self, name: str) -> None:
        # set_focus, not widget.focus(): the latter is deferred, so keys typed right
        # after (a, then arrows) would still go to the old pane
        if name == "tasks":
            self.set_focus(self.tasks)
        elif name == "composer":
            self.set_focus(self.composer.text_area)
        elif name == "actions":
            if self.actions.buttons:
                self.set_focus(self.actions)
            else:
                self.notify("The selected task has no actions.", severity="warning", timeout=2)

    def action_blend(self) -> None:
        self.files.blend()

    def action_describe(self) -> None:
        self.files.describe()

    def action_shorten(self) -> None:
        self.files.shorten()

    def action_save(self) -> None:
        self.pictures.save()

    def action_copy_url(self) -> None:
        self.pictures.copy_url()

    def action_copy_prompt(self) -> None:
        self.pictures.copy_prompt()

    def action_open_browser(self) -> None:
        self.pictures.open()

    def action_search(self) -> None:
        self.library.open_search()

    def action_star(self) -> None:
        self.library.toggle_star()

    def action_tags(self) -> None:
        self.library.edit_tags()

    def action_parent(self) -> None:
        self.lineage.parent()

    def action_dismiss_task(self) -> None:
        self.buttons.dismiss()

    def action_gallery(self) -> None:
        """The list's pictures as a grid of thumbnails (the same list: all tasks, or a search)."""
        from .gallery import GalleryScreen

        service = self.service
        if service is None:
            self.notify("Still connecting: try again in a moment.", severity="warning", timeout=3)
            return
        page, index = self.tasks.page, self.tasks.highlighted or 0
        start = (page.page - 1) * page.page_size + index if page is not None else 0
        gallery = self._gallery
        if gallery is not None and gallery.service is not service:  # a new key since: a new gallery
            self.app.uninstall_screen(gallery)
            gallery = self._gallery = None
        if gallery is None:
            gallery = GalleryScreen(
                service,
                self.connection.lister(),
                what=self.connection.list_name(),
                start=start,
                save=self.pictures.save_task,
                star=self.library.set_star,
                tag=self.library.edit_tags,
                clock=self.app.now,
            )
            # kept between openings: its tiles are mounted once, its last pictures kept
            self.app.install_screen(gallery, f"gallery-{id(gallery)}")
            self._gallery = gallery
        else:
            gallery.reopen(self.connection.lister(), what=self.connection.list_name(), start=start)
        self.app.push_screen(gallery, self._from_gallery)

    def _from_gallery(self, choice: GalleryChoice | None) -> None:
        """Enter in the gallery: the list shows that task, selected (esc: as it was)."""
        if choice is None:
            return
        self.connection.show_page(choice.position // self.session.page_size + 1, select=choice.task_id)
        self.set_focus(self.tasks)

    def action_toggle_preview(self) -> None:
        right = self.query_one("#right")
        right.display = not right.display
        if not right.display and self.focused in (self.preview, self.actions):
            self.set_focus(self.tasks)
