"""Server text never drives the terminal from the TUI: a hostile server's escape sequences
in every field a pane shows (the list, the preview, the action bar, a toast, the prompt a
dialog is filled with) are drawn as harmless symbols."""

from __future__ import annotations

from support.hostile import CONTROL, Hostile, ok, submitted
from ui_helpers import Recorder, make_app, make_launch, wait_for

from mj_tui.core.models import Status
from mj_tui.ui.screens.main import MainScreen

EVIL = "\x1b[2J\x1b]0;owned\x07\x1b]52;c;ZXZpbA==\x07\x9b31m\u202e"


def evil_task(task_id: str, status: str) -> dict[str, object]:
    return {
        "id": task_id,
        "status": status,
        "progress": "100%",
        "prompt": f"a fox {EVIL}",
        "action": f"IMAGINE{EVIL}",
        "description": f"desc {EVIL}",
        "failReason": f"refused {EVIL}" if status == "FAILURE" else None,
        "parentId": "12",
        "buttons": [{"customId": f"MJ::JOB::upsample::1::abc{EVIL}", "label": f"U1{EVIL}", "emoji": EVIL}],
        "properties": {"finalPrompt": f"a fox {EVIL}"},
    }


async def test_every_field_a_pane_shows_is_drawn_harmless(tmp_path, graphics):
    api = Hostile()
    try:
        # the new task waits for its prompt (a modal step): its dialog is filled from the server
        api.route("/submit/imagine", ok(submitted("mjproxy", "888")))
        api.route("/task/list-by-condition", ok([evil_task("888", "MODAL")]))
        api.route("/task/888/fetch", ok(evil_task("888", "MODAL")))
        app = make_app(make_launch(tmp_path, api.origin, "mjproxy", key="sk-hostile-tui"), graphics)
        notes = Recorder(app)
        async with app.run_test(size=(120, 40)) as pilot:
            screen = await wait_for(
                pilot, lambda: isinstance(app.screen, MainScreen) and app.screen.service and app.screen
            )
            screen.composer.text_area.text = "a calm fox"
            await pilot.press("ctrl+j")
            await wait_for(pilot, lambda: (t := screen.tasks.current) and t.status == Status.MODAL, what="modal")
            dialog = await wait_for(pilot, lambda: app.screen is not screen and app.screen, what="its dialog")
            await wait_for(pilot, lambda: dialog.query("#dialog-prompt"), what="mounted")
            seen = [dialog.query_one("#dialog-prompt").text]
            await pilot.press("escape")
            await wait_for(pilot, lambda: app.screen is screen, what="closed")
            seen += [screen.tasks.render_line(y).text for y in range(3)]
            seen += [str(screen.preview.query_one("#preview-caption").render())]
            seen += [str(screen.preview.query_one("#preview-state").render()), notes.text()]
    finally:
        api.close()
    for text in seen:
        found = CONTROL.search(text.replace("\n", ""))
        assert found is None, f"{found.group()!r} in {text!r}"
    assert "a fox" in "".join(seen) and "waits for its prompt" in "".join(seen)
