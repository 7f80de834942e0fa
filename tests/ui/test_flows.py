"""After the first grid, with real key presses against the emulator: blend, describe,
shorten, save, copy, open, lineage, Remix left waiting."""

from __future__ import annotations

import pytest
from PIL import Image
from support.keys import fresh_key
from ui_helpers import (
    Recorder,
    finished_grid,
    main_screen,
    make_app,
    make_launch,
    paste,
    screen_shown,
    submits,
    type_text,
    until_idle,
    wait_for,
)

from mj_tui.core.images import safe_filename
from mj_tui.core.models import Status
from mj_tui.ui.screens.modal_prompt import PromptDialog
from mj_tui.ui.screens.pick_images import ImageTree, PickImagesDialog
from mj_tui.ui.screens.pick_prompt import PickPromptDialog
from mj_tui.ui.widgets.segments import Segments

PROVIDERS = ["ohmygpt", "mjproxy"]


def pictures(folder, colours=("red", "green", "blue")):
    folder.mkdir(parents=True, exist_ok=True)
    for name, colour in zip("abc", colours, strict=False):
        Image.new("RGB", (64, 48), colour).save(folder / f"{name}.png")
    (folder / "notes.txt").write_text("not an image")
    return folder


async def open_picker(pilot, screen, folder, key: str) -> PickImagesDialog:
    """The image picker opened with `key` (f6 blend, d describe) on `folder`, its tree loaded."""
    screen.session.pick_root = folder
    await pilot.press(key)
    dialog = await screen_shown(pilot, PickImagesDialog, what="dialog")
    tree = dialog.query_one(ImageTree)
    await wait_for(pilot, lambda: len(tree.root.children) == 3, what="tree loaded (images only)")
    return dialog


# -- blend ------------------------------------------------------------------------------


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_blend_picks_files_from_the_tree_and_a_typed_path(provider, emulator, tmp_path, graphics):
    folder = pictures(tmp_path / "photos")
    app = make_app(make_launch(tmp_path, emulator, provider, key=fresh_key()), graphics)
    notes = Recorder(app)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await main_screen(pilot, app, connected=True)
        sent = []
        blend = app.service.blend

        async def spy(images, **kwargs):
            sent.append((len(images), kwargs))
            return await blend(images, **kwargs)

        app.service.blend = spy
        dialog = await open_picker(pilot, screen, folder, "f6")  # from the prompt box: f-keys work everywhere
        tree = dialog.query_one(ImageTree)
        assert [n.label.plain for n in tree.root.children] == ["a.png", "b.png", "c.png"]
        await pilot.press("down", "enter", "down", "enter")  # a.png, b.png
        assert [p.name for p in dialog.picked] == ["a.png", "b.png"]
        await pilot.press("ctrl+j")  # two are enough
        await wait_for(pilot, lambda: app.screen is screen, what="sent")
        task = await wait_for(
            pilot,
            lambda: (t := screen.tasks.current) and t.action == "BLEND" and t.status == Status.SUCCESS and t,
            what="blend done",
        )
        assert sent[0] == (2, {"dimensions": "SQUARE", "mode": screen.composer.mode})
        assert task.is_grid

        screen.set_focus(screen.tasks)
        await pilot.press("b")
        dialog = await screen_shown(pilot, PickImagesDialog, what="again")
        status = lambda: str(dialog.query_one("#pick-status").render())  # noqa: E731
        await pilot.press("ctrl+j")  # nothing picked: refused, says why
        await wait_for(pilot, lambda: "Pick 2–5 images first" in status(), what="refused")
        assert app.screen is dialog and "Pick 2–5 images first" in status()
        await pilot.press("tab", "tab")  # picked list, then the path box
        box = dialog.query_one("#pick-path")
        assert app.focused is box
        # long absolute paths are pasted, as from a file manager (one bracketed paste)
        await paste(pilot, f"{folder / 'c.png'} {folder / 'a.png'}")
        assert box.value == f"{folder / 'c.png'} {folder / 'a.png'}"
        await pilot.press("enter")
        assert [p.name for p in dialog.picked] == ["c.png", "a.png"]
        await paste(pilot, f"{folder}/")  # the folder pasted, the name typed after it
        await type_text(pilot, "notes.txt")
        assert box.value == str(folder / "notes.txt")
        await pilot.press("enter")
        assert "not a PNG" in str(dialog.query_one("#pick-status").render())
        await pilot.press("ctrl+a", "ctrl+k")  # clear the box
        await pilot.press("tab")  # the shape
        assert app.focused is dialog.query_one(Segments)
        await pilot.press("left")
        assert dialog.query_one(Segments).value == "PORTRAIT"
        await pilot.press("ctrl+j")
        await wait_for(pilot, lambda: len(sent) == 2, what="second blend")
        assert sent[1] == (2, {"dimensions": "PORTRAIT", "mode": screen.composer.mode})
        assert not notes.titles("error"), notes.text()


async def test_picker_folder_title_relative_paths_stale_errors_and_last_folder(emulator, tmp_path, graphics):
    folder = pictures(tmp_path / "photos" / "trip")
    app = make_app(make_launch(tmp_path, emulator, "mjproxy", key=fresh_key()), graphics)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await main_screen(pilot, app, connected=True)
        screen.set_focus(screen.tasks)
        dialog = await open_picker(pilot, screen, folder, "d")
        tree = dialog.query_one(ImageTree)
        status = lambda: str(dialog.query_one("#pick-status").render())  # noqa: E731
        await pilot.press("backspace")  # up a folder: the title follows
        await wait_for(pilot, lambda: dialog.folder == folder.parent, what="up a folder")
        assert str(tree.border_title).endswith("/photos")
        await pilot.press("tab", "tab")  # picked list, then the path box
        await type_text(pilot, "trip/nope.png")
        await pilot.press("enter")
        assert f"No file at {folder / 'nope.png'}" in status()  # relative to the folder on show
        await pilot.press("backspace")  # editing clears the stale error
        assert "No file" not in status()
        await pilot.press("ctrl+a", "ctrl+k")
        await type_text(pilot, "trip/b.png")
        await pilot.press("enter")
        assert [p.name for p in dialog.picked] == ["b.png"]
        await pilot.press("ctrl+j")
        await wait_for(pilot, lambda: app.screen is not dialog, what="sent")
        assert screen.session.pick_root == folder.parent
        # the next picker opens in the folder the last one was sent from
        screen.action_describe()
        again = await wait_for(
            pilot,
            lambda: isinstance(app.screen, PickImagesDialog) and app.screen is not dialog and app.screen,
            what="again",
        )
        await wait_for(pilot, lambda: again.query(ImageTree) and again.folder == folder.parent, what="opened there")


# -- describe ---------------------------------------------------------------------------


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_describe_shows_four_prompts_to_compose_or_imagine(provider, emulator, tmp_path, graphics):
    folder = pictures(tmp_path / "photos")
    app = make_app(make_launch(tmp_path, emulator, provider, key=fresh_key()), graphics)
    notes = Recorder(app)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await main_screen(pilot, app, connected=True)
        screen.set_focus(screen.tasks)
        dialog = await open_picker(pilot, screen, folder, "d")
        await pilot.press("down", "down", "enter", "down", "enter")  # describe takes one: the second replaces
        assert [p.name for p in dialog.picked] == ["c.png"]
        await pilot.press("ctrl+j")
        # done while the task list has focus: the prompts open by themselves
        chooser = await screen_shown(pilot, PickPromptDialog, what="prompts dialog", timeout=15)
        describe = screen.tasks.current
        assert describe.action == "DESCRIBE" and len(chooser.prompts) == 4
        assert "blue tones" in chooser.prompts[0]
        await pilot.press("3", "enter")  # the third into the prompt box
        await wait_for(pilot, lambda: app.screen is screen, what="closed")
        assert screen.composer.text_area.text == chooser.prompts[2]
        assert app.focused is screen.composer.text_area
        assert "enter on the task picks one" in str(screen.preview.query_one("#preview-state").render())

        screen.set_focus(screen.tasks)
        await pilot.press("enter")  # enter on a describe task: its prompts again
        chooser = await screen_shown(pilot, PickPromptDialog, what="again")
        await pilot.press("2", "ctrl+j")  # imagine the second now
        child = await wait_for(
            pilot,
            lambda: (t := screen.tasks.current) and t.parent_id == describe.id and t.status == Status.SUCCESS and t,
            what="imagined from describe",
        )
        assert child.prompt == chooser.prompts[1] and child.is_grid
        assert "from #" in str(screen.preview.query_one("#preview-caption").render())
        assert not notes.titles("error"), notes.text()


# -- shorten ----------------------------------------------------------------------------


async def test_shorten_on_the_proxy_offers_shorter_prompts(emulator, tmp_path, graphics):
    app = make_app(make_launch(tmp_path, emulator, "mjproxy", key=fresh_key()), graphics)
    notes = Recorder(app)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await main_screen(pilot, app, connected=True)
        long = "a very long prompt about a red fox in a snowy forest at dawn, cinematic lighting --ar 3:2"
        screen.composer.text_area.text = long
        await pilot.press("f8")
        await wait_for(pilot, lambda: (t := screen.tasks.current) and t.action == "SHORTEN", what="shorten sent")
        # the wait is on the task list, so the shorter prompts open as soon as they are ready
        chooser = await screen_shown(pilot, PickPromptDialog, what="dialog")
        assert "Prompts ready" not in notes.titles()
        assert len(chooser.prompts) == 5
        assert all(p.endswith(" --ar 3:2") for p in chooser.prompts)  # the shape is kept
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: app.screen is screen, what="closed")
        assert screen.composer.text_area.text == chooser.prompts[1]
        assert not notes.titles("error"), notes.text()


async def test_shorten_on_ohmygpt_says_why_and_sends_nothing(emulator, control, tmp_path, graphics):
    app = make_app(make_launch(tmp_path, emulator, "ohmygpt", key=fresh_key()), graphics)
    notes = Recorder(app)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await main_screen(pilot, app, connected=True)
        screen.composer.text_area.text = "a fox"
        before = submits(control)
        await pilot.press("f8")
        await wait_for(pilot, lambda: "Shorten" in notes.titles("warning"), what="warning")
        assert "does not offer /shorten" in notes.text()
        await until_idle(pilot)  # whatever the key set going has finished
        assert submits(control) == before and screen.composer.text_area.text == "a fox"


# -- keep and share ---------------------------------------------------------------------


async def test_save_full_image_and_a_quadrant_never_overwriting(emulator, tmp_path, graphics, pictures_and_terminal):
    app = make_app(make_launch(tmp_path, emulator, "ohmygpt", key=fresh_key()), graphics)
    notes = Recorder(app)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await main_screen(pilot, app, connected=True)
        task = await finished_grid(pilot, screen, "a tin robot, watercolor --ar 3:2")
        screen.set_focus(screen.tasks)
        await pilot.press("s")
        name = safe_filename(task.id, task.prompt)
        target = pictures_and_terminal / name
        await wait_for(pilot, lambda: target.exists(), what="saved")
        await pilot.press("s")
        second = pictures_and_terminal / name.replace(".png", " (2).png")
        await wait_for(pilot, lambda: second.exists(), what="saved again, not overwritten")
        full = Image.open(target)
        await wait_for(pilot, lambda: screen.preview.shown, what="grid shown")
        await pilot.press("2", "s")  # zoomed: the quadrant
        quadrant = pictures_and_terminal / safe_filename(task.id, task.prompt, quadrant=2)
        await wait_for(pilot, lambda: quadrant.exists(), what="quadrant saved")
        assert Image.open(quadrant).size == (full.width // 2, full.height // 2)
        assert "Saved" in notes.titles() and str(quadrant) in notes.text()


async def test_copy_url_and_prompt_with_tmux_passthrough_and_a_fallback_file(emulator, tmp_path, graphics, monkeypatch):
    monkeypatch.setenv("TMUX", "/tmp/tmux-0/default,1,0")
    app = make_app(make_launch(tmp_path, emulator, "mjproxy", key=fresh_key()), graphics)
    notes = Recorder(app)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await main_screen(pilot, app, connected=True)
        task = await finished_grid(pilot, screen, "a paper lantern")
        written: list[str] = []
        write = app._driver.write
        app._driver.write = lambda data: (written.append(data), write(data))[1]
        screen.set_focus(screen.tasks)
        await pilot.press("y")
        assert app.clipboard == task.image_url
        assert any(w.startswith("\x1b]52;c;") for w in written)  # plain OSC 52 (set-clipboard on)
        assert any(w.startswith("\x1bPtmux;\x1b\x1b]52;c;") and w.endswith("\x1b\\") for w in written)
        fallback = tmp_path / "data" / "clipboard.txt"  # $MJ_TUI_DATA_DIR (root conftest)
        assert fallback.read_text().strip() == task.image_url
        assert "Copied the image URL" in notes.titles() and "set-clipboard on" in notes.text()
        await pilot.press("Y")
        assert app.clipboard == task.final_prompt and fallback.read_text().strip() == task.final_prompt
        assert "Copied the prompt" in notes.titles()


async def test_open_in_browser_headless_saves_and_says_where(emulator, tmp_path, graphics, pictures_and_terminal):
    app = make_app(make_launch(tmp_path, emulator, "ohmygpt", key=fresh_key()), graphics)
    notes = Recorder(app)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await main_screen(pilot, app, connected=True)
        task = await finished_grid(pilot, screen, "a kite over dunes")
        screen.set_focus(screen.tasks)
        await pilot.press("o")
        await wait_for(pilot, lambda: "Open image" in notes.titles("warning"), what="headless note")
        assert "no graphical display" in notes.text()
        assert (pictures_and_terminal / safe_filename(task.id, task.prompt)).exists()


async def test_open_in_browser_uses_a_graphical_browser(emulator, tmp_path, graphics, monkeypatch):
    import webbrowser

    opened: list[str] = []

    class Fake:
        name = "firefox"

        def open(self, url):
            opened.append(url)
            return True

    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setattr(webbrowser, "get", lambda: Fake())
    app = make_app(make_launch(tmp_path, emulator, "ohmygpt", key=fresh_key()), graphics)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await main_screen(pilot, app, connected=True)
        task = await finished_grid(pilot, screen, "a red bicycle")
        screen.set_focus(screen.tasks)
        await pilot.press("o")
        await wait_for(pilot, lambda: opened, what="browser opened")
        assert opened == [task.image_url]


# -- lineage ----------------------------------------------------------------------------


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_lineage_shows_the_parent_and_g_jumps_to_it(provider, emulator, tmp_path, graphics):
    app = make_app(make_launch(tmp_path, emulator, provider, key=fresh_key(), page_size=5), graphics)
    notes = Recorder(app)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await main_screen(pilot, app, connected=True)
        parent = await finished_grid(pilot, screen, "a copper kettle")
        screen.set_focus(screen.tasks)
        await pilot.press("u", "3")
        child = await wait_for(
            pilot,
            lambda: (t := screen.tasks.current) and t.parent_id == parent.id and t.status == Status.SUCCESS and t,
            what="U3",
        )
        caption = str(screen.preview.query_one("#preview-caption").render())
        assert f"from #{parent.id} U3" in caption
        for n in range(5):  # push the parent to page 2
            await finished_grid(pilot, screen, f"filler {n}")
        screen.tasks.show_page(app.service.cached_page(2), select=child.id)
        screen.set_focus(screen.tasks)
        await wait_for(pilot, lambda: screen.tasks.current and screen.tasks.current.id == child.id, what="child")
        await pilot.press("g")
        await wait_for(pilot, lambda: screen.tasks.current and screen.tasks.current.id == parent.id, what="parent")
        assert screen.tasks.page.page == 2
        # g again, on the parent: a task without a parent says so and stays put (home, the
        # first row, was the U3 child, which has a parent: g jumped again and nothing was checked)
        await pilot.press("g")
        await wait_for(pilot, lambda: "not made from another task" in notes.text(), what="says so")
        assert notes.titles("warning") and screen.tasks.current.id == parent.id


# -- modal left waiting -----------------------------------------------------------------


async def test_remix_dialog_cancelled_leaves_a_marked_task_enter_reopens_it(emulator, control, tmp_path, graphics):
    control.post("/_emulator/config", json={"remix": True})
    app = make_app(make_launch(tmp_path, emulator, "mjproxy", key=fresh_key()), graphics)
    notes = Recorder(app)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await main_screen(pilot, app, connected=True)
        parent = await finished_grid(pilot, screen, "a tea garden")
        screen.set_focus(screen.tasks)
        await pilot.press("v", "2")
        await screen_shown(pilot, PromptDialog, what="remix dialog")
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen, what="closed")
        waiting = screen.tasks.current
        assert waiting.status == Status.MODAL and waiting.parent_id == parent.id
        assert "waits for its prompt" in screen.tasks.render_line(1).text
        assert "waits for its prompt" in notes.text()
        await pilot.press("enter")
        dialog = await screen_shown(pilot, PromptDialog, what="reopened")
        assert "a tea garden" in dialog.query_one("#dialog-prompt").text
        await pilot.press("ctrl+j")
        done = await wait_for(
            pilot,
            lambda: (t := screen.tasks.find(waiting.id)) and t.status == Status.SUCCESS and t,
            what="variation done",
        )
        assert done.is_grid
