"""Vary (Region): the mask editor by keys and by mouse, the mask sent, and a MODAL
region task reopened with enter; Custom Zoom's --zoom check."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image
from support.keys import fresh_key
from ui_helpers import (
    Recorder,
    custom_zoom_dialog,
    main_screen,
    make_app,
    make_launch,
    screen_shown,
    single_image,
    submits,
    until_idle,
    wait_for,
)

from mj_tui.core.models import ButtonKind, Status
from mj_tui.ui.screens.region import RegionDialog, build_mask
from mj_tui.ui.widgets.mask_editor import MaskEditor

PROVIDERS = ["ohmygpt", "mjproxy"]


def decode(uri: str) -> Image.Image:
    return Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])))


def spy_masks(app) -> list[str | None]:
    """Record the mask of every press and modal submit (the service still sends them)."""
    service = app.service
    masks: list[str | None] = []
    press, submit_modal = service.press, service.submit_modal

    async def spied_press(parent, button, **kwargs):
        masks.append(kwargs.get("mask"))
        return await press(parent, button, **kwargs)

    async def spied_modal(task, prompt, **kwargs):
        masks.append(kwargs.get("mask"))
        return await submit_modal(task, prompt, **kwargs)

    service.press, service.submit_modal = spied_press, spied_modal
    return masks


async def open_region(pilot, screen):
    await pilot.press("a")
    index = next(i for i, b in enumerate(screen.actions.buttons) if b.kind == ButtonKind.VARY_REGION)
    await pilot.press(*["right"] * index, "enter")
    return await screen_shown(pilot, RegionDialog, what="region dialog")


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_region_keys_select_two_areas_and_send_a_full_size_mask(provider, emulator, tmp_path, graphics):
    app = make_app(make_launch(tmp_path, emulator, provider, key=fresh_key()), graphics)
    notes = Recorder(app)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await main_screen(pilot, app)
        single = await single_image(pilot, screen, "a cozy reading nook")
        masks = spy_masks(app)
        dialog = await open_region(pilot, screen)
        editor = dialog.query_one(MaskEditor)
        await wait_for(pilot, lambda: editor.grid[0] > 0, what="editor laid out")
        assert app.focused is editor and len(editor.selections) == 1  # a centre area to start from
        await pilot.press("2")  # the active area onto the top-right quarter
        assert editor.boxes()[0] == pytest.approx((0.5, 0, 1, 0.5), abs=0.05)
        await pilot.press("a")  # a second area, in the centre, active
        assert len(editor.selections) == 2 and editor.active == 1
        await pilot.press("down", "down", "left")  # move it
        before = editor.selections[1]
        await pilot.press("shift+right", "shift+down")  # one cell wider and taller
        after = editor.selections[1]
        assert (after.x1 - after.x0, after.y1 - after.y0) == (before.x1 - before.x0 + 1, before.y1 - before.y0 + 1)
        await pilot.press("a", "delete")  # a third, deleted again
        assert len(editor.selections) == 2
        await pilot.press("tab")  # to the prompt box: a new prompt for the region
        await pilot.press("end", "space", "r", "e", "d")
        expected = [tuple(box) for box in editor.boxes()]
        await pilot.press("ctrl+j")
        child = await wait_for(
            pilot,
            lambda: (t := screen.tasks.current) and t.parent_id == single.id and t.status == Status.SUCCESS and t,
            what=f"region done ({provider})",
        )
        assert child.is_grid
        mask = decode(next(m for m in masks if m))
        picture = Image.open(await app.service.fetch_image(single))
        assert mask.size == picture.size  # the image's own resolution
        w, h = mask.size
        assert mask.getpixel((int(0.75 * w), int(0.25 * h))) == 255  # top-right quarter: repaint
        assert mask.getpixel((int(0.1 * w), int(0.9 * h))) == 0  # bottom-left corner: keep
        left, top, right, bottom = expected[1]
        assert mask.getpixel((int((left + right) / 2 * w), int((top + bottom) / 2 * h))) == 255
        assert not notes.titles("error"), notes.text()


async def test_region_mouse_drag_draws_and_moves_an_area(emulator, tmp_path, graphics):
    app = make_app(make_launch(tmp_path, emulator, "mjproxy", key=fresh_key()), graphics)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await main_screen(pilot, app)
        single = await single_image(pilot, screen, "a lighthouse")
        dialog = await open_region(pilot, screen)
        editor = dialog.query_one(MaskEditor)
        await wait_for(pilot, lambda: editor.grid[0] > 0, what="editor laid out")
        await pilot.press("c")  # clear the starting area
        assert editor.selections == []
        left = editor._offset_x() + editor.gutter.left  # the border and the centring
        top = editor.gutter.top
        await pilot.mouse_down(editor, offset=(left + 1, top + 1))
        await pilot.hover(editor, offset=(left + 6, top + 4))
        await pilot.mouse_up(editor, offset=(left + 6, top + 4))
        rect = editor.selections[0]
        assert (rect.x0, rect.y0, rect.x1, rect.y1) == (1, 1, 7, 5)
        await pilot.mouse_down(editor, offset=(left + 3, top + 2))  # inside it: drag moves it
        await pilot.hover(editor, offset=(left + 5, top + 3))
        await pilot.mouse_up(editor, offset=(left + 5, top + 3))
        rect = editor.selections[0]
        assert (rect.x0, rect.y0, rect.x1, rect.y1) == (3, 2, 9, 6) and len(editor.selections) == 1
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen, what="closed")
        assert screen.tasks.current.id == single.id  # nothing was sent


async def test_region_send_without_an_area_is_refused_in_the_dialog(emulator, tmp_path, graphics):
    app = make_app(make_launch(tmp_path, emulator, "ohmygpt", key=fresh_key()), graphics)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await main_screen(pilot, app)
        await single_image(pilot, screen, "a quiet harbour")
        dialog = await open_region(pilot, screen)
        status = lambda: str(dialog.query_one("#region-status").render())  # noqa: E731
        await pilot.press("c", "ctrl+j")
        await wait_for(pilot, lambda: "Select at least one area" in status(), what="refused")
        assert app.screen is dialog
        assert "Select at least one area" in status()


async def test_modal_region_task_reopens_the_editor_on_enter(emulator, tmp_path, graphics):
    """A Vary (Region) whose dialog step never went (MODAL) is marked and finished with enter."""
    app = make_app(make_launch(tmp_path, emulator, "mjproxy", key=fresh_key()), graphics)
    notes = Recorder(app)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await main_screen(pilot, app)
        single = await single_image(pilot, screen, "a stone bridge")
        button = next(b for b in single.buttons if b.kind == ButtonKind.VARY_REGION)
        blank = "data:image/png;base64," + base64.b64encode(b"").decode()
        outcome = await app.service.press(single, button, mask=blank, auto_modal=False)
        assert outcome.modal_required and outcome.task.status == Status.MODAL
        screen.tasks.put_first(outcome.task)
        # render_line reads the lines laid out at the last paint: wait for the new row there
        await wait_for(pilot, lambda: "waits for its prompt" in screen.tasks.render_line(1).text, what="marked")
        assert "waits for its prompt" in screen.tasks.render_line(1).text
        screen.set_focus(screen.tasks)
        await pilot.press("home", "enter")
        dialog = await screen_shown(pilot, RegionDialog, what="editor")
        editor = dialog.query_one(MaskEditor)
        await wait_for(pilot, lambda: editor.grid[0] > 0, what="editor laid out")
        await pilot.press("ctrl+j")
        done = await wait_for(
            pilot,
            lambda: (t := screen.tasks.find(outcome.task.id)) and t.status == Status.SUCCESS and t,
            what="modal region done",
        )
        assert done.is_grid
        assert not notes.titles("error"), notes.text()


async def test_custom_zoom_checks_the_zoom_value_before_sending(emulator, tmp_path, graphics):
    app = make_app(make_launch(tmp_path, emulator, "mjproxy", key=fresh_key()), graphics)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await main_screen(pilot, app)
        single = await single_image(pilot, screen, "a whale in the clouds")
        dialog = await custom_zoom_dialog(pilot, screen, single)
        area = dialog.query_one("#dialog-prompt")
        error = lambda: str(dialog.query_one("#dialog-error").render())  # noqa: E731
        area.text = area.text.replace("--zoom 2", "--zoom 3")
        await pilot.press("ctrl+j")
        await wait_for(pilot, lambda: "--zoom must be" in error(), what="refused")
        assert app.screen is dialog
        assert "--zoom must be from 1 to 2" in error()
        area.text = area.text.replace("--zoom 3", "")
        await pilot.press("ctrl+j")
        await wait_for(pilot, lambda: "needs --zoom" in error(), what="refused again")
        assert app.screen is dialog and "needs --zoom" in error()
        area.text = area.text + " --zoom 1.5"
        await pilot.press("ctrl+j")
        zoomed = await wait_for(
            pilot,
            lambda: (t := screen.tasks.current) and t.parent_id == single.id and t.status == Status.SUCCESS and t,
            what="zoomed",
        )
        assert "--zoom 1.5" in zoomed.prompt


async def test_custom_zoom_on_ohmygpt_says_why_and_sends_nothing(emulator, control, tmp_path, graphics):

    app = make_app(make_launch(tmp_path, emulator, "ohmygpt", key=fresh_key()), graphics)
    notes = Recorder(app)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await main_screen(pilot, app)
        single = await single_image(pilot, screen, "a fern")
        button = next((b for b in single.buttons if b.kind == ButtonKind.CUSTOM_ZOOM), None)
        if button is None:
            pytest.skip("this emulator offers no Custom Zoom button on OhMyGPT")
        before = submits(control)
        screen.press(single, button)
        await wait_for(pilot, lambda: "Custom Zoom" in notes.titles("warning"), what="warning")
        await until_idle(pilot)  # whatever the press set going has finished
        assert submits(control) == before and screen.tasks.current.id == single.id


def test_build_mask_white_inside_boxes_black_elsewhere():
    mask = build_mask((100, 60), [(0.5, 0, 1, 0.5), (0, 0.5, 0.2, 1)])
    assert mask.size == (100, 60) and mask.mode == "L"
    assert mask.getpixel((75, 10)) == 255 and mask.getpixel((10, 50)) == 255
    assert mask.getpixel((25, 10)) == 0 and mask.getpixel((75, 50)) == 0
    assert mask.getpixel((49, 0)) == 0 and mask.getpixel((50, 0)) == 255 and mask.getpixel((99, 29)) == 255
