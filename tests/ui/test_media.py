"""Today's Midjourney in the TUI, with real keys against the emulator (midjourney-proxy):
Animate an upscale → a batch of videos → u 2 → Extend; save the video; the seed; edit and
retexture; cancel a running job. OhMyGPT has none of it and says so."""

from __future__ import annotations

from PIL import Image
from support.keys import fresh_key
from test_library import palette
from ui_helpers import (
    Recorder,
    frozen_jobs,
    in_the_bar,
    main_screen,
    make_app,
    make_launch,
    screen_shown,
    single_image,
    submits,
    type_text,
    wait_for,
)

from mj_tui.core.models import Action, ButtonKind, Status
from mj_tui.ui.screens.ask import AskDialog
from mj_tui.ui.screens.confirm import ConfirmDialog


def newest(screen, action: Action, after: str):
    """The list's selected task once it is a finished `action` made after task `after`."""
    task = screen.tasks.current
    ok = task is not None and task.id != after and task.action == action and task.status == Status.SUCCESS
    return task if ok and in_the_bar(screen, task) else None


async def test_animate_then_a_video_u2_then_extend_save_and_seed(emulator, tmp_path, graphics, pictures_and_terminal):
    app = make_app(make_launch(tmp_path, emulator, "mjproxy", key=fresh_key()), graphics)
    notes = Recorder(app)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await main_screen(pilot, app, connected=True)
        single = await single_image(pilot, screen, "a lighthouse in a storm")
        assert [b.label for b in single.buttons if b.kind == ButtonKind.ANIMATE] == [
            "Animate (High motion)",
            "Animate (Low motion)",
        ]
        await palette(pilot, app, "Animate (High")
        videos = await wait_for(pilot, lambda: newest(screen, Action.VIDEO, single.id), what="a batch of videos")
        assert len(videos.video_urls) == 4 and videos.is_video
        assert "--motion high" in videos.final_prompt or "--motion high" in videos.prompt
        assert "s save video" in str(screen.preview.border_subtitle)

        screen.set_focus(screen.tasks)
        await pilot.press("u", "2")  # a batch of videos' U2: one video on its own
        one = await wait_for(pilot, lambda: newest(screen, Action.UPSCALE, videos.id), what="video U2")
        assert one.is_video and len(one.video_urls) == 1
        assert {b.label for b in one.buttons if b.kind == ButtonKind.EXTEND} == {
            "Extend (High motion)",
            "Extend (Low motion)",
        }

        await pilot.press("s")  # the video itself, its prompt written in
        await wait_for(pilot, lambda: "Saved" in notes.titles(), what="saved")
        (saved,) = [p for p in pictures_and_terminal.iterdir() if p.suffix in (".gif", ".mp4")]
        if saved.suffix == ".gif":
            with Image.open(saved) as clip:
                assert clip.n_frames > 1 and b"a lighthouse in a storm" in clip.info.get("comment", b"")

        await pilot.press("S")  # the seed: asked once, copied, shown in the caption
        await wait_for(pilot, lambda: any(t.startswith("Copied the seed") for t in notes.titles()), what="seed")
        seed = screen.tasks.current.seed
        assert seed and seed.isdigit()
        assert f"seed {seed}" in str(screen.preview.query_one("#preview-caption").render())

        await palette(pilot, app, "Extend (Low")
        longer = await wait_for(pilot, lambda: newest(screen, Action.VIDEO, one.id), what="extended")
        assert longer.parent_id == one.id


async def test_edit_and_retexture_ask_for_a_prompt_and_make_new_grids(emulator, tmp_path, graphics):
    app = make_app(make_launch(tmp_path, emulator, "mjproxy", key=fresh_key()), graphics)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await main_screen(pilot, app, connected=True)
        single = await single_image(pilot, screen, "a red barn")
        await palette(pilot, app, "Edit this picture")
        dialog = await screen_shown(pilot, AskDialog, what="the edit question")
        assert dialog.value == "a red barn"  # the picture's own prompt, to change
        await pilot.press("ctrl+a")  # (the line starts with its prompt: the new text replaces it)
        await type_text(pilot, " in winter")
        await pilot.press("enter")
        edited = await wait_for(pilot, lambda: newest(screen, Action.EDIT, single.id), what="the edit")
        assert "winter" in edited.prompt

        screen.tasks.show_page(screen.tasks.page, select=single.id)
        await wait_for(pilot, lambda: in_the_bar(screen, single), what="the barn again")
        await palette(pilot, app, "Retexture this picture")
        await screen_shown(pilot, AskDialog, what="the retexture question")
        await pilot.press("enter")  # empty: refused, the dialog stays
        assert isinstance(app.screen, AskDialog)
        await type_text(pilot, "made of glass")
        await pilot.press("enter")
        glass = await wait_for(pilot, lambda: newest(screen, Action.RETEXTURE, single.id), what="the retexture")
        assert "glass" in glass.prompt


async def test_a_running_job_is_cancelled_with_x_after_a_question(emulator, control, tmp_path, graphics):
    frozen_jobs(control)
    app = make_app(make_launch(tmp_path, emulator, "mjproxy", key=fresh_key()), graphics)
    notes = Recorder(app)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await main_screen(pilot, app, connected=True)
        await type_text(pilot, "a kite that never lands")
        await pilot.press("ctrl+j")
        running = await wait_for(pilot, lambda: (t := screen.tasks.current) and t.status.in_flight and t)
        screen.set_focus(screen.tasks)
        await pilot.press("x")
        await screen_shown(pilot, ConfirmDialog, what="the question")
        await pilot.press("y")
        await wait_for(pilot, lambda: "Cancelled" in notes.titles(), what="cancelled")
        assert screen.tasks.current.id == running.id and screen.tasks.current.status == Status.FAILURE


async def test_ohmygpt_says_it_has_none_of_it_and_sends_nothing(emulator, control, tmp_path, graphics):
    app = make_app(make_launch(tmp_path, emulator, "ohmygpt", key=fresh_key()), graphics)
    notes = Recorder(app)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await main_screen(pilot, app, connected=True)
        await single_image(pilot, screen, "a quiet harbour")
        before = submits(control)
        await palette(pilot, app, "Video of this picture")
        await wait_for(pilot, lambda: "Not available" in notes.titles(), what="no video")
        assert "OhMyGPT has no video" in notes.text()
        await pilot.press("S")
        await wait_for(pilot, lambda: "OhMyGPT has no seed lookup" in notes.text(), what="no seed")
        frozen_jobs(control)
        screen.set_focus(screen.composer.text_area)
        await type_text(pilot, "a boat that runs on")
        await pilot.press("ctrl+j")
        await wait_for(pilot, lambda: (t := screen.tasks.current) and t.status.in_flight)
        screen.set_focus(screen.tasks)
        await pilot.press("x")
        await wait_for(pilot, lambda: "Cannot cancel" in notes.titles(), what="no cancel")
        assert submits(control) == before + 1  # the boat, and nothing else
