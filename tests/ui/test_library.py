"""The library in the TUI: sync, the search line, stars, tags and exporting, with real keys
against the emulator (OhMyGPT's 24-task history, or jobs made in the test on midjourney-proxy)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from PIL import Image
from textual.widgets import Input
from ui_helpers import Recorder, main_screen, make_app, make_launch, wait_for

from mj_tui.core.models import Status
from mj_tui.ui.screens.ask import AskDialog
from mj_tui.ui.screens.gallery import GalleryScreen
from mj_tui.ui.widgets.search_line import SearchLine


def note(screen) -> str:
    return str(screen.query_one("#search-note").render())


def rows(screen) -> list[str]:
    return [str(option.prompt) for option in screen.tasks._options]


async def palette(pilot, app, words: str) -> None:
    """ctrl+p, the words typed, enter: as a person runs a command."""
    await pilot.press("ctrl+p")
    await wait_for(pilot, lambda: app.screen.__class__.__name__ == "CommandPalette", what="the palette")
    await pilot.press(*words)
    await wait_for(
        pilot, lambda: app.screen.query("CommandList Option") or app.screen.query("#--results *"), what="hits"
    )
    await pilot.pause()  # (the palette's own search is async: its first hit is the one shown)
    await pilot.press("enter")


async def synced_list(pilot, app):
    """The 24-task history on screen, synced from the palette into the store, the list focused."""
    screen = await main_screen(pilot, app, connected=True)
    recorder = Recorder(app)
    await wait_for(pilot, lambda: screen.tasks.page and screen.tasks.page.total == 24, what="the history")
    await palette(pilot, app, "sync history")
    await wait_for(pilot, lambda: "Sync" in recorder.titles() and "24 tasks read" in recorder.text(), what="synced")
    screen.set_focus(screen.tasks)
    return screen, recorder


async def test_search_narrows_the_list_as_you_type_and_escape_brings_every_task_back(emulator, tmp_path, graphics):
    app = make_app(make_launch(tmp_path, emulator, "ohmygpt", key="sk-history", page_size=0), graphics)
    async with app.run_test(size=(100, 30)) as pilot:
        screen, _ = await synced_list(pilot, app)
        await pilot.press("down", "down")
        before = screen.tasks.current

        await pilot.press("slash")
        line = screen.query_one(SearchLine)
        assert line.display and app.focused is line.input
        await pilot.press(*"ramen")
        await wait_for(pilot, lambda: screen.session.query == "ramen", what="the search in force")
        found = screen.tasks.tasks
        assert found and all("ramen" in t.prompt for t in found)
        assert len(found) == screen.tasks.page.total < 24
        assert f"{len(found)} found" in note(screen)
        assert screen.tasks.border_title == "Tasks · search"

        # a term narrows it further; the list follows the last keys typed
        await pilot.press(*" action:upscale")
        await wait_for(pilot, lambda: screen.session.query == "ramen action:upscale", what="the narrower search")
        assert screen.tasks.tasks and all(t.action == "UPSCALE" and "ramen" in t.prompt for t in screen.tasks.tasks)

        # an unknown term: said where; the list keeps what the last readable query found
        # ("colour" typed so far is a free word: nothing matches it)
        await pilot.press(*" colour:red")
        await wait_for(pilot, lambda: "colour" in note(screen), what="the problem")
        assert screen.query_one("#search-note").has_class("-problem")
        assert screen.session.query.strip() == "ramen action:upscale colour" and not screen.tasks.tasks

        # tab completes a term name, then its value
        for _ in " colour:red":
            await pilot.press("backspace")
        await pilot.press(*" sta", "tab")
        assert line.input.value.endswith("status:")
        await pilot.press("d", "tab")
        assert line.input.value.endswith("status:done ")

        # enter: to the results; esc: every task, the selected one still selected
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.focused is screen.tasks, what="the results focused")
        chosen = screen.tasks.current
        await pilot.press("escape")
        await wait_for(pilot, lambda: not screen.session.query and screen.tasks.page.total == 24, what="every task")
        await wait_for(pilot, lambda: screen.tasks.current and screen.tasks.current.id == chosen.id, what="kept")
        assert not line.display and before is not None


async def test_star_and_tag_show_on_rows_and_are_searchable_and_export_writes_the_prompt_in(
    emulator, tmp_path, graphics
):
    app = make_app(make_launch(tmp_path, emulator, "ohmygpt", key="sk-history", page_size=0), graphics)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await main_screen(pilot, app, connected=True)
        recorder = Recorder(app)
        await wait_for(pilot, lambda: screen.tasks.page and screen.tasks.page.total == 24, what="the history")
        screen.set_focus(screen.tasks)
        await pilot.press("down")
        task = screen.tasks.current
        assert task.status == Status.SUCCESS and not task.starred
        await pilot.press("asterisk")
        await wait_for(pilot, lambda: screen.tasks.current.starred, what="starred")
        assert "★" in rows(screen)[1]

        await pilot.press("t")
        dialog = await wait_for(pilot, lambda: isinstance(app.screen, AskDialog) and app.screen, what="tags")
        await pilot.press(*"Food portfolio", "enter")
        await wait_for(pilot, lambda: screen.tasks.current.tags == ("food", "portfolio"), what="tagged")
        assert "#food+1" in rows(screen)[1]  # (a narrow list: the first tag and how many more)
        # a bad name keeps the dialog open, saying why
        await pilot.press("t")
        dialog = await wait_for(pilot, lambda: isinstance(app.screen, AskDialog) and app.screen, what="tags again")
        await pilot.press(*" no/slash", "enter")
        assert app.screen is dialog and "Not a tag" in str(dialog.query_one("#ask-error").render())
        await pilot.press("escape")

        await pilot.press("slash", *"is:starred tag:food")
        await wait_for(pilot, lambda: screen.session.query == "is:starred tag:food", what="the search")
        assert [t.id for t in screen.tasks.tasks] == [task.id]

        # export the starred set, from the palette, into a folder of our own
        await pilot.press("escape")
        await palette(pilot, app, "export starred")
        ask = await wait_for(pilot, lambda: isinstance(app.screen, AskDialog) and app.screen, what="the folder")
        folder = tmp_path / "starred"
        ask.query_one(Input).value = str(folder)
        await pilot.press("enter")
        await wait_for(pilot, lambda: "Export" in recorder.titles(), timeout=20, what="the export's report")
        assert "1 saved" in recorder.text()
        (saved,) = [p for p in folder.iterdir() if p.suffix != ".json"]
        assert task.id in saved.name
        with Image.open(saved) as image:
            image.load()
            described = image.info.get("Description") or ""
            xmp = image.info.get("XML:com.adobe.xmp") or image.info.get("xmp") or ""
        assert task.prompt in described
        if isinstance(xmp, bytes):
            xmp = xmp.decode()
        texts = [el.text or "" for el in ET.fromstring(xmp[xmp.index("<x:xmpmeta") :]).iter()]
        assert any(task.prompt in text for text in texts)


async def test_gallery_of_a_search_and_space_stars(emulator, tmp_path, graphics):
    app = make_app(make_launch(tmp_path, emulator, "ohmygpt", key="sk-history", page_size=0), graphics)
    async with app.run_test(size=(100, 30)) as pilot:
        screen, _ = await synced_list(pilot, app)
        await pilot.press("slash", *"cat", "enter")
        await wait_for(pilot, lambda: screen.session.query == "cat" and app.focused is screen.tasks, what="found")
        found = [t.id for t in screen.tasks.tasks]
        await pilot.press("i")
        gallery = await wait_for(
            pilot, lambda: isinstance(app.screen, GalleryScreen) and app.screen.page and app.screen, what="gallery"
        )
        assert "search 'cat'" in str(gallery.query_one("#gallery-title").render())
        assert [t.shown_task.id for t in gallery.tiles if t.shown_task] == found[: len(gallery.tiles)]
        await pilot.press("space")
        await wait_for(pilot, lambda: gallery.tiles[0].shown_task.starred, what="starred in the gallery")
        assert "★" in str(gallery.tiles[0].query_one(".tile-caption").render())
        await pilot.press("t")  # tags, from the gallery too
        await wait_for(pilot, lambda: isinstance(app.screen, AskDialog), what="the tags dialog")
        await pilot.press(*"cats", "enter")
        await wait_for(pilot, lambda: gallery.tiles[0].shown_task.tags == ("cats",), what="tagged in the gallery")
        assert app.screen is gallery and "#cats" in str(gallery.query_one("#gallery-detail").render())
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen, what="the list")
        assert screen.tasks.find(found[0]).starred  # the list's row too


async def test_midjourney_proxy_search_over_its_local_history(emulator, control, tmp_path, graphics):
    app = make_app(make_launch(tmp_path, emulator, "mjproxy", key="sk-lib-proxy", page_size=0), graphics)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await main_screen(pilot, app, connected=True)
        for prompt in ("a red fox in snow", "a blue whale at night"):
            screen.composer.text_area.text = prompt
            await pilot.press("ctrl+j")
            await wait_for(
                pilot, lambda p=prompt: screen.tasks.current and screen.tasks.current.prompt == p, what=prompt
            )
        await wait_for(
            pilot, lambda: all(t.status == Status.SUCCESS for t in screen.tasks.tasks), timeout=15, what="both done"
        )
        screen.set_focus(screen.tasks)
        await pilot.press("slash", *"whale")
        await wait_for(pilot, lambda: screen.session.query == "whale", what="the search")
        assert [t.prompt for t in screen.tasks.tasks] == ["a blue whale at night"]
        await pilot.press("escape")
        await wait_for(pilot, lambda: len(screen.tasks.tasks) == 2, what="both again")


async def test_an_export_folder_that_cannot_take_files_is_said_and_nothing_is_fetched(
    emulator, control, tmp_path, graphics
):
    app = make_app(make_launch(tmp_path, emulator, "ohmygpt", key="sk-history", page_size=0), graphics)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await main_screen(pilot, app, connected=True)
        recorder = Recorder(app)
        await wait_for(pilot, lambda: screen.tasks.page and screen.tasks.page.total == 24, what="the history")
        screen.set_focus(screen.tasks)
        await pilot.press("asterisk")
        await wait_for(pilot, lambda: screen.tasks.current.starred, what="starred")
        in_the_way = tmp_path / "a-file"
        in_the_way.write_text("not a folder")
        before = control.get("/_emulator/state").json()["requests"]
        await palette(pilot, app, "export starred")
        ask = await wait_for(pilot, lambda: isinstance(app.screen, AskDialog) and app.screen, what="the folder")
        ask.query_one(Input).value = str(in_the_way)
        await pilot.press("enter")
        await wait_for(pilot, lambda: "is a file" in recorder.text(), what="the folder refused")
        assert in_the_way.read_text() == "not a folder" and app.is_running
        after = control.get("/_emulator/state").json()["requests"]
        assert {k: v for k, v in after.items() if "mj-generated" in k or "attachments" in k} == {
            k: v for k, v in before.items() if "mj-generated" in k or "attachments" in k
        }
        assert not screen.library.exporting and screen.tasks.border_title == "Tasks"
