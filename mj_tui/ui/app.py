"""The Textual App: screens, keymap, theme, and the one place errors become toasts."""

from __future__ import annotations

import contextlib
import sys
import traceback
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.theme import Theme

if TYPE_CHECKING:
    from ..core.service import MjService
    from .screens.main import MainScreen

from ..core.credentials import KeySource, ResolvedKey, Secret
from ..core.errors import MjError
from . import gc_tuning
from . import graphics as renderers
from .commands import ButtonCommands, binding_commands
from .graphics import BLOCK_PIXELS, Graphics
from .text import clean
from .worker_errors import ReportWorkerErrors


def utc_now() -> datetime:
    return datetime.now(UTC)


class MjApp(ReportWorkerErrors, App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "mj-tui"
    COMMANDS = App.COMMANDS | {ButtonCommands}
    BINDINGS = [
        Binding("f1,question_mark", "help", "Help", id="help", tooltip="Show all keys"),
        Binding("f2", "key", "Key", id="key", tooltip="Change or delete the API key"),
        Binding("ctrl+q", "quit", "Quit", id="quit", priority=True, tooltip="Quit mj-tui"),
        # (ctrl+l, the usual key, clears the prompt box)
        Binding(
            "f12",
            "redraw",
            "Redraw",
            id="redraw",
            priority=True,
            show=False,
            tooltip="Draw the screen again, pictures too (after tmux wiped them)",
        ),
    ]
    # panes reflow by size: see app.tcss (.-narrow / .-short)
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (30, "-tall")]

    def __init__(
        self,
        launch,
        *,
        graphics: Graphics | None = None,
        clock: Callable[[], datetime] | None = None,
        # None: the config's [ui] cursor_blink (off by default: a blinking cursor redraws
        # its line twice a second, the only traffic an idle session would send over SSH)
        blink_cursor: bool | None = None,
        animations: bool = True,
        quick_start: bool = False,
    ) -> None:
        super().__init__()
        #: draw the first frame with the start screen, then build the main screen (run_app)
        self.quick_start = quick_start
        #: keys and pastes that came before the main screen could take them (see on_event)
        self._held_input: list[events.Key | events.Paste] | None = None
        self.launch = launch
        self.graphics = graphics or Graphics("none", None, BLOCK_PIXELS)
        self.now: Callable[[], datetime] = clock or utc_now
        self.blink_cursor = launch.config.cursor_blink if blink_cursor is None else blink_cursor
        if not animations:
            self.animation_level = "none"
        self.keymap: dict[str, str] = dict(launch.config.keymap)
        if self._welcome_first():
            # the first screen is a dialog-styled one: its stylesheet (see dialogs.tcss) is
            # read with the app's, as Textual reads a screen's own CSS_PATH only on a push
            self.css_path.append(Path(__file__).with_name("dialogs.tcss"))

    @property
    def image_class(self):
        return self.graphics.image_class

    @property
    def pixels_per_cell(self) -> tuple[int, int]:
        return self.graphics.pixels_per_cell

    # -- start ------------------------------------------------------------------------
    def on_mount(self) -> None:
        if self._held_input is not None:
            self.call_after_refresh(self.start_main)  # the start screen's frame is out by then
        else:
            self.call_after_refresh(gc_tuning.startup_done)  # the first frame is out by then
        if self.keymap:
            self.set_keymap(self.keymap)
        theme = self.launch.config.theme
        if theme in self.available_themes:
            if theme != self.theme:
                self.theme = theme
        elif theme:
            self.notify(f"Unknown theme {theme!r}; using the default.", severity="warning", markup=False)
        if self.graphics.note:
            self.notify(self.graphics.note, title="Images", severity="warning", markup=False)
        if self._held_input is None:  # (quick start: once the main screen is up, see start_main)
            self.call_after_refresh(renderers.begin, self)  # what the terminal can draw, asked now
        # a theme picked in the palette is kept for the next start (after the one above)
        self.call_after_refresh(self._follow_theme)

    def _follow_theme(self) -> None:
        if self.is_running:  # (not when the app is already on its way out: a quick quit)
            self.theme_changed_signal.subscribe(self, self._theme_chosen)

    def _theme_chosen(self, theme: Theme) -> None:
        config = self.launch.config
        if theme.name == config.theme:
            return
        config.theme = theme.name
        self.run_worker(partial(self._save_theme, config.path, theme.name), thread=True, group="settings")

    def _save_theme(self, path: Path, name: str) -> None:
        from ..core.errors import ConfigError
        from ..core.settings_file import save_setting

        try:
            save_setting(path, "ui", "theme", name)
        except ConfigError as exc:
            self.call_from_thread(
                self.notify, clean(exc.message), title="Theme not saved", severity="warning", markup=False
            )
            return
        self.call_from_thread(self.notify, f"Saved in {path}", title=f"Theme {name}", timeout=4, markup=False)

    def _welcome_first(self) -> bool:
        return self.launch.key.key is None and not self.launch.demo

    def get_default_screen(self) -> Screen:
        # the first screen is the real one: no blank screen composed and laid out first
        if self._welcome_first():
            from .screens.welcome import WelcomeScreen

            return self._sized(WelcomeScreen(self.launch))
        if self.quick_start:
            from .screens.start import StartScreen

            self._held_input = []
            early = self.launch.early_frame  # the same frame is on screen already: its store and page
            if early is not None:
                return self._sized(StartScreen(self.launch, early.history, early.page))
            return self._sized(StartScreen(self.launch, self.launch.open_history(defer_index=True)))
        return self._main_screen()

    async def start_main(self) -> None:
        """The start screen's frame is out: build the main screen, put it in the start
        screen's place, and hand it the keys typed meanwhile."""
        from .screens.start import StartScreen

        start = self.screen
        try:
            if isinstance(start, StartScreen) and self.is_running:
                # over it (the app's first screen has no place to switch from); it stays
                # below, hidden, as the welcome screen does below a main screen
                main = self._main_screen(start.history)
                main.session.page_size = start.page_size  # type: ignore[attr-defined]
                await self.push_screen(main)
                # its colours for the next start's early frame: once the main screen is drawn
                self.call_after_refresh(start.keep_for_next_start)
        finally:
            gc_tuning.startup_done()
            self.call_after_refresh(self._release_input)
            # what the terminal can draw, asked now: not while the main screen was imported
            # (the detection's thread imports picture modules the main screen imports too)
            self.call_after_refresh(renderers.begin, self)

    def _release_input(self) -> None:
        """Post the held keys and pastes again, in order: they reach the main screen's
        focused widget as if typed now (anything typed later queues behind them)."""
        held, self._held_input = self._held_input, None
        for event in held or []:
            if isinstance(event, events.Key):
                self.post_message(events.Key(event.key, event.character))
            else:
                self.post_message(events.Paste(event.text))

    def _sized(self, screen: Screen) -> Screen:
        """Give a new screen its breakpoint classes now: set on its first resize, they
        would restyle every widget once more before the first frame."""
        width, height = self.size
        for value, points in ((width, self.HORIZONTAL_BREAKPOINTS), (height, self.VERTICAL_BREAKPOINTS)):
            name = next((name for limit, name in sorted(points, reverse=True) if value >= limit), None)
            if name:
                screen.add_class(name)
        return screen

    def _main_screen(self, history=None) -> Screen:
        from .screens.main import MainScreen

        # the screen draws from the local store, then builds the service in a thread
        # the search index of an older store: built by the service, in its thread
        if history is None:
            history = self.launch.open_history(defer_index=True)
        return self._sized(MainScreen(self.launch, history))

    def use_key(self, key: Secret, *, source: KeySource = KeySource.KEYRING) -> None:
        """Start the main screen with this key, or reconnect the running one."""

        self.launch = replace(self.launch, key=ResolvedKey(key, source))
        main = self.main_screen
        if main is not None:
            main.reconnect(self.launch)
        else:
            self.push_screen(self._main_screen())  # over the welcome screen

    def use_demo(self, demo_launch) -> None:
        self.launch = demo_launch
        self.push_screen(self._main_screen())
        self.notify("Demo: a built-in emulator, no key and no network. Jobs take a few seconds.", timeout=6)

    @property
    def main_screen(self) -> MainScreen | None:
        # not imported yet: there is none (and asking must not import it: the start screen
        # draws the first frame before it, see screens/start.py)
        module = sys.modules.get(f"{__package__}.screens.main")
        if module is None:
            return None
        MainScreen = module.MainScreen
        return next((s for s in self.screen_stack if isinstance(s, MainScreen)), None)

    @property
    def service(self) -> MjService | None:
        """The main screen's service, once connected (the key lives in `launch.key` alone)."""
        main = self.main_screen
        return main.service if main is not None else None

    async def on_unmount(self) -> None:
        main = self.main_screen
        if main is None:
            return
        with contextlib.suppress(Exception):  # shutting down: nothing useful to say
            if main.service is not None:
                await main.service.aclose()
        with contextlib.suppress(Exception):
            main.history.close()

    async def on_event(self, event) -> None:
        if self._held_input is not None and not getattr(event, "is_forwarded", True):
            # the start screen is up: keys wait for the main screen (ctrl+q and ctrl+c
            # still quit), and clicks on its outlines go nowhere
            if isinstance(event, events.Key) and event.key not in ("ctrl+q", "ctrl+c"):
                self._held_input.append(event)
                return
            if isinstance(event, events.Paste):
                self._held_input.append(event)
                return
            if isinstance(event, events.MouseEvent) and not isinstance(event, events.MouseMove):
                return
        # a key or a click: the person is active, full GCs wait (see gc_tuning)
        if isinstance(event, (events.Key, events.MouseDown)) and (collector := getattr(self, "idle_collector", None)):
            collector.touched()
        await super().on_event(event)

    # -- errors -----------------------------------------------------------------------
    def report_error(self, error: BaseException) -> None:
        """The one place a failure becomes words on screen; never a traceback."""
        if isinstance(error, MjError):
            self.notify(clean(str(error)), title=error.title, severity="error", timeout=8, markup=False)
            return
        self.log.error("".join(traceback.format_exception(error)))
        self.notify(
            f"{type(error).__name__}: {clean(str(error))}\nThe app keeps running; please report this.",
            title="Something went wrong",
            severity="error",
            timeout=10,
            markup=False,
        )

    # -- actions ----------------------------------------------------------------------
    async def action_quit(self) -> None:
        """Quit, asking once when it would leave something behind: jobs still running (they
        go on at the provider, and are picked up at the next start), or a demo session's
        work (the demo keeps nothing). ctrl+q in that question quits."""
        from .screens.confirm import ConfirmDialog

        main = self.main_screen
        reasons = self._quit_reasons(main) if main is not None else []
        if not reasons or (isinstance(self.screen, ConfirmDialog) and self.screen.id == "quit-question"):
            self.exit()
            return

        def answer(yes: bool | str | None) -> None:
            if yes:
                self.exit()

        question = ConfirmDialog("Quit mj-tui?", "\n".join(reasons), yes="Quit", no="Stay")
        question.id = "quit-question"
        self.push_screen(question, answer)

    def _quit_reasons(self, main: MainScreen) -> list[str]:
        queued = main.queue.quit_reason()
        if self.launch.demo:
            if main.session.added or queued:
                return [
                    "The demo keeps nothing: its tasks, queue and pictures are gone when it quits (s saves a picture)."
                ]
            return []
        reasons = [queued] if queued else []
        running = main.session.running
        if running and not queued:
            jobs = f"{running} job{'s are' if running > 1 else ' is'}"
            reasons.append(
                f"{jobs} still running at the provider. They go on there, and mj-tui picks them up "
                "the next time it starts."
            )
        return reasons

    def action_redraw(self) -> None:
        """Write every cell again. The pictures follow: a frame over a Sixel picture's
        cells sends it again, and a kitty picture is placed again (its data stays)."""
        from .sixel_image import watched

        screen = self.screen
        # a full frame, as Textual writes after a resize (textual is pinned: private API)
        self._display(screen, screen._compositor.render_update(full=True, screen_stack=self._background_screens))
        for picture in list(watched(self)):  # then each picture at once, over its fresh cells
            picture.redraw_now()

    def focus_came_back(self) -> None:
        """The terminal (or tmux: another window, then this one again) gave us the focus
        back. Inside tmux, pictures passed through to the terminal are gone once tmux has
        drawn the pane again from its own copy of the text: draw them again."""
        if getattr(self.graphics.image_class, "wrap", None) is not None:
            self.action_redraw()

    def action_help(self) -> None:
        from .screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_key(self) -> None:
        from .screens.key import KeyScreen
        from .screens.main import MainScreen

        if isinstance(self.screen, MainScreen):
            self.push_screen(KeyScreen(self.launch), self._key_chosen)

    def _key_chosen(self, chosen) -> None:
        if chosen is None:
            return
        self.use_key(chosen.key, source=KeySource.KEYRING if chosen.saved else KeySource.NONE)
        self.notify(
            "Key saved; reconnected with it." if chosen.saved else "Using that key for this session.", timeout=3
        )

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield from binding_commands(self, screen)
        main = self.main_screen
        if main is not None and screen is main:
            for title, help_text, callback in main.palette_commands():
                yield SystemCommand(title, help_text, callback)


def run_app(launch) -> int:
    """Entry point for the CLI: the first frame draws with what is known without asking the
    terminal (see graphics.py); mj-tui's driver asks it afterwards."""
    import os

    from ..core.terminal_caps import locale_is_utf8
    from .terminal_driver import MjDriver

    env = dict(os.environ)
    app = MjApp(launch, graphics=renderers.starting_graphics(launch.graphics, env), quick_start=True)
    app.driver_class = type("Driver", (MjDriver,), {"ascii_only": not locale_is_utf8(env)})
    renderers.apply(app, app.graphics)  # true colour where this terminal was found to have it
    result = app.run()
    return result if isinstance(result, int) else (app.return_code or 0)
