"""The gallery: the list's pictures as thumbnails, a page of tiles at a time, real keys."""

from __future__ import annotations

from ui_helpers import Recorder, main_screen, make_app, make_launch, wait_for

from mj_tui.core.models import Status
from mj_tui.ui.screens.gallery import GalleryScreen
from mj_tui.ui.widgets.tile import tile_grid


async def open_gallery(pilot, app, screen) -> GalleryScreen:
    screen.set_focus(screen.tasks)
    await pilot.press("i")
    return await wait_for(
        pilot,
        lambda: isinstance(app.screen, GalleryScreen) and app.screen.page is not None and app.screen,
        what="the gallery with its first page",
    )


def pictured(gallery: GalleryScreen) -> int:
    return sum(1 for tile in gallery.tiles if tile.picture_key is not None)


def title(gallery: GalleryScreen) -> str:
    return str(gallery.query_one("#gallery-title").render())


async def test_a_page_of_thumbnails_and_moving_through_pages(emulator, tmp_path, graphics):
    app = make_app(make_launch(tmp_path, emulator, "ohmygpt", key="sk-history", page_size=0), graphics)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await main_screen(pilot, app, connected=True)
        await wait_for(pilot, lambda: screen.tasks.page and screen.tasks.page.total == 24, what="the history")
        gallery = await open_gallery(pilot, app, screen)
        assert gallery.grid == (5, 2)  # 80x24: ten tiles of 16 columns
        assert "page 1 of 3 · 24 tasks" in title(gallery)
        ids = [t.id for t in screen.tasks.tasks]
        assert [tile.shown_task.id for tile in gallery.tiles] == ids[:10]  # the list's order
        with_pictures = sum(1 for tile in gallery.tiles if tile.wants_picture)
        assert with_pictures >= 8
        await wait_for(pilot, lambda: pictured(gallery) == with_pictures, what="every thumbnail drawn")
        for tile in gallery.tiles:
            if tile.wants_picture:  # fitted to its tile: not a dot, not wider than the tile
                width, height = tile.picture_cells()
                image = tile.query_one(".tile-image")
                assert 0 < image.styles.width.value <= width and 0 < image.styles.height.value <= height
                assert image.styles.width.value >= width - 2 or image.styles.height.value >= height - 2
        assert gallery.current.id == ids[0]

        await pilot.press("right", "l", "down")  # two along, one down: the eighth tile
        assert gallery.current.id == ids[7]
        assert f"#{ids[7]}" in str(gallery.query_one("#gallery-detail").render())
        await pilot.press("down")  # past the bottom row: the next page, same column
        await wait_for(pilot, lambda: gallery.page.page == 2, what="page 2")
        assert gallery.current is gallery.tiles[2].shown_task
        assert gallery.position == 12
        await pilot.press("right_curly_bracket")  # } the last page: four tasks
        await wait_for(pilot, lambda: gallery.page.page == 3, what="the last page")
        assert [t.shown_task is not None for t in gallery.tiles] == [True] * 4 + [False] * 6
        await pilot.press("end", "right")  # nothing after the last: a bell, nothing moves
        assert gallery.position == 23
        await pilot.press("left_square_bracket")  # [ back a page
        await wait_for(pilot, lambda: gallery.page.page == 2, what="page 2 again")

        # enter: back on the list, on that task, whichever page holds it
        chosen = gallery.current
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen is screen, what="the main screen")
        await wait_for(pilot, lambda: screen.tasks.current and screen.tasks.current.id == chosen.id, what="it selected")
        assert screen.tasks.page.page == chosen_page(gallery.position, screen.session.page_size)


def chosen_page(position: int, page_size: int) -> int:
    return position // page_size + 1


async def test_escape_leaves_the_list_as_it_was_and_a_resize_keeps_the_selection(emulator, tmp_path, graphics):
    app = make_app(make_launch(tmp_path, emulator, "ohmygpt", key="sk-history", page_size=0), graphics)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await main_screen(pilot, app, connected=True)
        await wait_for(pilot, lambda: screen.tasks.page and screen.tasks.page.total == 24, what="the history")
        before = screen.tasks.current
        gallery = await open_gallery(pilot, app, screen)
        await pilot.press("right", "right", "right", "right", "right", "right")  # wraps to the second row
        chosen = gallery.current
        assert gallery.position == 6
        await pilot.resize_terminal(160, 48)
        await wait_for(pilot, lambda: gallery.grid[0] * gallery.grid[1] > 10, what="more tiles")
        await wait_for(pilot, lambda: gallery.page is not None and gallery.current is not None, what="the page again")
        assert gallery.current.id == chosen.id  # the same picture selected, on a bigger page
        with_pictures = sum(1 for tile in gallery.tiles if tile.wants_picture)
        await wait_for(pilot, lambda: pictured(gallery) == with_pictures, what="the bigger page drawn")
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen, what="the main screen")
        assert screen.tasks.current.id == before.id


async def test_a_running_task_gets_its_picture_when_it_finishes_and_s_saves(
    emulator, control, tmp_path, graphics, pictures_and_terminal
):
    app = make_app(make_launch(tmp_path, emulator, "ohmygpt", key="sk-gallery-live", page_size=0), graphics)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await main_screen(pilot, app, connected=True)
        control.post("/_emulator/config", json={"job_seconds": 30})
        control.post("/_emulator/clock", json={"freeze": True})
        screen.composer.text_area.text = "a lighthouse in fog"
        await pilot.press("ctrl+j")
        running = await wait_for(pilot, lambda: screen.tasks.current, what="the new task")
        gallery = await open_gallery(pilot, app, screen)
        first = gallery.tiles[0]
        assert first.shown_task.id == running.id and not first.wants_picture
        state = first.query_one(".tile-state")
        assert "queued" in str(state.render()) or "running" in str(state.render()) or "submitted" in str(state.render())
        recorder = Recorder(app)
        await pilot.press("s")  # nothing to save yet: said so, nothing written
        assert recorder.items[-1][0] == "warning" and "no finished image" in recorder.items[-1][2]

        control.post("/_emulator/clock", json={"advance": 60})
        await wait_for(pilot, lambda: first.picture_key is not None, timeout=15, what="its picture, once done")
        assert first.shown_task.status == Status.SUCCESS
        await pilot.press("s")
        await wait_for(pilot, lambda: any(t == "Saved" for _, t, _ in recorder.items), what="saved")
        saved = list(pictures_and_terminal.iterdir())
        assert len(saved) == 1 and saved[0].suffix == ".png" and saved[0].stat().st_size > 0


async def test_pictures_that_cannot_be_had_say_so_in_their_tiles(emulator, control, tmp_path, graphics):
    app = make_app(make_launch(tmp_path, emulator, "ohmygpt", key="sk-history", page_size=0), graphics)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await main_screen(pilot, app, connected=True)
        await wait_for(pilot, lambda: screen.tasks.page and screen.tasks.page.total == 24, what="the history")
        # every picture download answers 404 (expired links), from both places a picture is
        for where in ("/mj-generated/", "/attachments/"):
            control.post(
                "/_emulator/faults", json={"next": [{"kind": "http", "status": 404}] * 40, "path_contains": where}
            )
        gallery = await open_gallery(pilot, app, screen)
        tile = [t for t in gallery.tiles if t.wants_picture][-1]  # (the first is in the preview already)
        state = tile.query_one(".tile-state")
        await wait_for(pilot, lambda: "unavailable" in str(state.render()), what="the tile says why")
        assert tile.picture_key is None
        # the gallery still works: keys move, enter goes back
        await pilot.press("right")
        assert gallery.index == 1
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen, what="the main screen")


async def test_resizing_while_the_pictures_are_on_their_way(emulator, control, tmp_path, graphics):
    """The tiles are rebuilt for the new size while pictures for the old ones are being
    fitted: those are dropped, the new tiles get theirs."""
    app = make_app(make_launch(tmp_path, emulator, "ohmygpt", key="sk-history", page_size=0), graphics)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await main_screen(pilot, app, connected=True)
        await wait_for(pilot, lambda: screen.tasks.page and screen.tasks.page.total == 24, what="the history")
        control.post(
            "/_emulator/faults",
            json={"next": [{"kind": "delay", "seconds": 0.3}] * 20, "path_contains": "/mj-generated/"},
        )
        gallery = await open_gallery(pilot, app, screen)
        for size in ((120, 40), (60, 20), (120, 40), (100, 30)):
            await pilot.resize_terminal(*size)
            await pilot.pause()

        def settled() -> bool:
            wanted = [tile for tile in gallery.tiles if tile.wants_picture]
            page = gallery.page
            return (
                page is not None
                and page.page_size == gallery.per_page == len(gallery.tiles)
                and bool(wanted)
                and all(tile.picture_key is not None for tile in wanted)
            )

        await wait_for(pilot, settled, timeout=20, what="the last size's page, every thumbnail drawn")
        assert gallery.grid == tile_grid(*gallery.query_one("#tiles").size, app.pixels_per_cell)
        assert app.is_running and app.screen is gallery


async def test_opened_again_it_shows_the_list_as_it_is_now_on_the_same_tiles(emulator, tmp_path, graphics):
    app = make_app(make_launch(tmp_path, emulator, "ohmygpt", key="sk-history", page_size=0), graphics)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await main_screen(pilot, app, connected=True)
        await wait_for(pilot, lambda: screen.tasks.page and screen.tasks.page.total == 24, what="the history")
        gallery = await open_gallery(pilot, app, screen)
        tiles = gallery.tiles
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen, what="the main screen")

        # a search (the first page of the history is in the store), then the gallery again
        await pilot.press("slash", *"ramen", "enter")
        await wait_for(pilot, lambda: screen.session.query == "ramen" and app.focused is screen.tasks, what="found")
        await pilot.press("down")
        chosen = screen.tasks.current
        found = [t.id for t in screen.tasks.tasks]
        await pilot.press("i")
        await wait_for(
            pilot,
            lambda: app.screen is gallery and [t.shown_task.id for t in gallery.tiles if t.shown_task] == found,
            what="the search's tasks in the same gallery",
        )
        assert gallery.tiles == tiles  # the same tiles: mounted once
        assert "search 'ramen'" in title(gallery) and gallery.current.id == chosen.id
        with_pictures = sum(1 for tile in gallery.tiles if tile.wants_picture)
        await wait_for(pilot, lambda: pictured(gallery) == with_pictures, what="its thumbnails")
