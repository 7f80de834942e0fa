"""mj-tui's Sixel: the encoder draws exactly the palette picture, and the widget sends a
picture once per showing, nothing while something is over it, and once more when that
goes away."""

from __future__ import annotations

import re
import threading

from PIL import Image
from support.keys import fresh_key
from textual.drivers.headless_driver import HeadlessDriver
from textual.geometry import Region
from textual.widgets._toast import Toast
from ui_helpers import grid_in_preview, make_app, make_launch, wait_for

from mj_tui.ui import sixel_encode
from mj_tui.ui.graphics import Graphics
from mj_tui.ui.sixel_image import SixelImage


def decode(text: str) -> tuple[Image.Image, int]:
    """A small Sixel reader: the picture drawn (unpainted pixels magenta), and its colours."""
    head = re.match(r'\x1bP0;1;0q"1;1;(\d+);(\d+)', text)
    assert head and text.endswith("\x1b\\")
    width, height = int(head.group(1)), int(head.group(2))
    canvas = Image.new("RGB", (width, height), (255, 0, 255))
    body = text[head.end() : -2]
    colours: dict[int, tuple[int, int, int]] = {}
    x = top = 0
    colour = 0
    for token in re.finditer(r"#(\d+)(?:;2;(\d+);(\d+);(\d+))?|!(\d+)(.)|([?-~])|(\$)|(-)", body):
        number, r, g, b, count, repeated, char, back, down = token.groups()
        if number is not None:
            colour = int(number)
            if r is not None:
                colours[colour] = tuple(round(int(v) * 255 / 100) for v in (r, g, b))  # type: ignore[assignment]
            continue
        if back:
            x = 0
            continue
        if down:
            x, top = 0, top + 6
            continue
        times, char = (int(count), repeated) if count else (1, char)
        bits = ord(char) - 63
        for _ in range(times):
            for k in range(6):
                if bits >> k & 1 and top + k < height:
                    canvas.putpixel((x, top + k), colours[colour])
            x += 1
    return canvas, len(colours)


def near(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    return all(abs(p - q) <= 2 for p, q in zip(a, b, strict=True))  # the protocol's percent steps


def test_the_encoder_paints_every_pixel_in_its_palette_colour():
    image = Image.effect_noise((37, 23), 80).convert("RGB")  # not a multiple of 6 rows
    image = Image.merge("RGB", (image.getchannel(0), image.rotate(90).getchannel(0), Image.new("L", (37, 23), 40)))
    drawn, colours = decode(sixel_encode.encode(image))
    wanted = image.quantize(colors=256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.FLOYDSTEINBERG)
    wanted = wanted.convert("RGB")
    assert drawn.size == image.size and colours <= 256
    assert all(near(drawn.getpixel((x, y)), wanted.getpixel((x, y))) for x in range(37) for y in range(23))


def test_a_flat_picture_is_a_few_bytes():
    text = sixel_encode.encode(Image.new("RGB", (300, 120), (10, 200, 30)))
    assert len(text) < 300  # runs: one colour, twenty bands of "!300~"
    drawn, _ = decode(text)
    assert near(drawn.getpixel((299, 119)), (10, 200, 30))


async def test_one_send_per_showing_none_under_a_toast_one_after_it(emulator, control, tmp_path, monkeypatch):
    written: list[str] = []  # everything the app writes (the headless driver drops it)
    monkeypatch.setattr(HeadlessDriver, "write", lambda self, data: written.append(data))
    encoded_on: list[str] = []
    real_encode = sixel_encode.encode

    def watched(image, colours=256):
        encoded_on.append(threading.current_thread().name)
        return real_encode(image, colours)

    monkeypatch.setattr("mj_tui.ui.sixel_image.encode", watched)
    app = make_app(make_launch(tmp_path, emulator, "mjproxy", key=fresh_key()), Graphics("sixel", SixelImage, (10, 20)))
    # the submit's own toasts stay away until the picture is settled: one over the picture as
    # it arrives would rightly cost a second send when it goes, which is counted below on purpose
    quiet = [True]
    real_notify = app.notify
    app.notify = lambda *a, **k: None if quiet[0] else real_notify(*a, **k)  # type: ignore[method-assign]
    async with app.run_test(size=(120, 40), notifications=True) as pilot:  # toasts drawn, as in a terminal
        screen = await grid_in_preview(pilot, app, "a fox")
        widget = screen.preview.image_widget
        assert isinstance(widget, SixelImage)
        await wait_for(pilot, lambda: widget.sends == 1 and widget._settle is None, what="the picture sent")
        sent = [w for w in written if "\x1bP0;1;0q" in w]
        assert len(sent) == 1 and widget._sixel is not None and widget._sixel in sent[0]
        region = widget.content_region
        assert sent[0].startswith(f"\x1b7\x1b[{region.y + 1};{region.x + 1}H")  # at its top-left corner
        assert threading.main_thread().name not in encoded_on  # encoded by the worker
        quiet[0] = False

        await pilot.press("escape")  # from the prompt to the task list: a focus change
        await wait_for(pilot, lambda: screen.tasks.has_focus, what="the list focused")
        for _ in range(3):
            await pilot.pause()
        await wait_for(pilot, lambda: widget._settle is None, what="frames settled")
        assert widget.sends == 1  # the picture's cells were not redrawn: nothing to send again

        app.notify("over the picture", timeout=30)
        await wait_for(pilot, lambda: widget.held >= 1, what="the toast drawn over it")
        assert widget.sends == 1  # nothing sent over the toast
        app.clear_notifications()
        await wait_for(pilot, lambda: widget.sends == 2 and widget._settle is None, what="sent again")
        await pilot.pause()
        await pilot.pause()
        assert widget.sends == 2 and len([w for w in written if "\x1bP0;1;0q" in w]) == 2


async def test_kitty_direct_sends_once_and_only_moves_placements(emulator, control, tmp_path, monkeypatch):
    from mj_tui.ui.kitty_direct import KittyDirectImage

    written: list[str] = []
    monkeypatch.setattr(HeadlessDriver, "write", lambda self, data: written.append(data))
    graphics = Graphics("kitty", KittyDirectImage, (10, 20))
    app = make_app(make_launch(tmp_path, emulator, "mjproxy", key=fresh_key()), graphics)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        screen = await grid_in_preview(pilot, app, "a fox")
        app.clear_notifications()
        widget = screen.preview.image_widget
        assert isinstance(widget, KittyDirectImage)
        await wait_for(pilot, lambda: widget.sends == 1 and widget._placed_at, what="sent and placed")
        image_id = widget._image_id
        region = widget.content_region
        (sent,) = [w for w in written if f"a=t,f=100,i={image_id}" in w]
        assert f"\x1b[{region.y + 1};{region.x + 1}H\x1b_Ga=p,i={image_id},p=1,c={region.width}" in sent

        app.notify("over the picture", timeout=30)
        cut = f"\x1b_Ga=d,d=i,i={image_id},q=2\x1b\\"
        await wait_for(pilot, lambda: any(w.startswith(cut) for w in written), what="placed around the toast")
        (toast,) = screen.query(Toast)
        over = toast.region.intersection(region)
        assert over.area  # the toast is over the picture
        (around,) = [w for w in written if w.startswith(cut)]
        pieces = [
            (Region(int(col) - 1, int(row) - 1, int(c), int(r)), (int(x), int(y), int(w), int(h)))
            for row, col, x, y, w, h, c, r in re.findall(
                rf"\x1b\[(\d+);(\d+)H\x1b_Ga=p,i={image_id},p=\d+,x=(\d+),y=(\d+),w=(\d+),h=(\d+),c=(\d+),r=(\d+)",
                around,
            )
        ]
        assert len(pieces) >= 2
        assert all(not piece.overlaps(toast.region) and region.contains_region(piece) for piece, _ in pieces)
        assert sum(piece.area for piece, _ in pieces) == region.area - over.area  # all the rest of it
        px, py = widget.image.width / region.width, widget.image.height / region.height
        for piece, (x, y, w, h) in pieces:  # each shows its own part of the picture
            assert (x, y) == (round((piece.x - region.x) * px), round((piece.y - region.y) * py))
            assert (x + w, y + h) == (round((piece.right - region.x) * px), round((piece.bottom - region.y) * py))
        placed = widget.placements
        app.clear_notifications()
        await wait_for(pilot, lambda: widget.placements > placed and len(widget._placed_at) == 4, what="whole again")
        assert written[-1].count("a=p,") == 1 and f"a=p,i={image_id},p=1,c={region.width}" in written[-1]
        assert widget.sends == 1  # the picture itself went out once
        assert sum("f=100" in w for w in written) == 1


def test_uncovered_is_the_region_less_the_covers_in_few_rectangles():
    from mj_tui.ui.kitty_direct import uncovered

    region = Region(10, 5, 40, 20)
    assert uncovered(region, []) == [region]
    assert uncovered(region, [Region(0, 0, 100, 100)]) == []
    toast = Region(30, 8, 30, 4)  # top right, past the edge
    pieces = uncovered(region, [toast])
    assert pieces == [Region(10, 5, 40, 3), Region(10, 8, 20, 4), Region(10, 12, 40, 13)]
    two = [Region(12, 6, 5, 5), Region(30, 9, 5, 10)]
    pieces = uncovered(region, two)
    assert sum(p.area for p in pieces) == region.area - 25 - 50
    assert all(not p.overlaps(c) for p in pieces for c in two)
    assert all(not a.overlaps(b) for a in pieces for b in pieces if a is not b)


async def test_f12_and_tmux_focus_coming_back_draw_the_picture_again(emulator, control, tmp_path, monkeypatch):
    written: list[str] = []
    monkeypatch.setattr(HeadlessDriver, "write", lambda self, data: written.append(data))
    app = make_app(make_launch(tmp_path, emulator, "mjproxy", key=fresh_key()), Graphics("sixel", SixelImage, (10, 20)))
    quiet = [True]  # no toasts over the picture: each send below is the one asked for
    real_notify = app.notify
    app.notify = lambda *a, **k: None if quiet[0] else real_notify(*a, **k)  # type: ignore[method-assign]
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        screen = await grid_in_preview(pilot, app, "a fox")
        widget = screen.preview.image_widget
        assert isinstance(widget, SixelImage)
        await wait_for(pilot, lambda: widget.sends == 1 and widget._settle is None, what="the picture sent")

        await pilot.press("f12")  # from the prompt box too
        await wait_for(pilot, lambda: widget.sends == 2 and widget._settle is None, what="sent again")
        assert screen.composer.text_area.text == ""  # not typed

        app.focus_came_back()  # not inside tmux: the terminal kept the picture
        for _ in range(4):
            await pilot.pause()
        assert widget.sends == 2

        widget.wrap = staticmethod(lambda text: text)  # inside tmux: pictures are passed through
        app.graphics = Graphics("sixel", type("Wrapped", (SixelImage,), {"wrap": widget.wrap}), (10, 20))
        app.focus_came_back()
        await wait_for(pilot, lambda: widget.sends == 3 and widget._settle is None, what="sent again after tmux")
        assert len([w for w in written if "\x1bP0;1;0q" in w]) == 3
