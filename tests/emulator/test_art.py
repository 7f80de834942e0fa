"""The images: real PNGs whose quadrants, crops and zooms can be checked pixel by pixel."""

from __future__ import annotations

from emu_helpers import (
    client_for,
    load_image,
    mj_fetch,
    mj_imagine,
    mj_press,
    mj_submit,
    omg_ok,
    omg_press,
    omg_task,
    png_url,
)
from PIL import Image, ImageChops, ImageStat

from mj_tui.emulator import EmulatorConfig, create_app
from mj_tui.emulator.art import quadrant


def crop(img: Image.Image, n: int) -> Image.Image:
    qw, qh = img.width // 2, img.height // 2
    x, y = ((n - 1) % 2) * qw, ((n - 1) // 2) * qh
    return img.crop((x, y, x + qw, y + qh))


def same(a: Image.Image, b: Image.Image) -> bool:
    return a.size == b.size and ImageChops.difference(a, b).getbbox() is None


def mean(img: Image.Image) -> tuple[float, ...]:
    return tuple(ImageStat.Stat(img).mean)


def test_u2_is_exactly_the_top_right_quadrant_enlarged_2x(emu: str, key: str) -> None:
    with client_for(emu, key) as c:
        grid_task = omg_task(c, omg_ok(c, "imagine", prompt="four different tiles"))
        grid = load_image(c, grid_task["imageDcUrl"])
        assert grid.size == (256, 256)
        u2 = load_image(c, omg_task(c, omg_press(c, grid_task, "U2"))["imageDcUrl"])
        assert u2.size == grid.size
        assert same(u2.resize((u2.width // 2, u2.height // 2), Image.NEAREST), crop(grid, 2))
        assert same(u2, crop(grid, 2).resize(u2.size, Image.NEAREST))
        assert not same(u2, crop(grid, 1).resize(u2.size, Image.NEAREST))


def test_proxy_u4_is_the_bottom_right_quadrant(emu: str, key: str) -> None:
    with client_for(emu, key) as c:
        task = mj_imagine(c, "corner piece --ar 16:9")
        grid = load_image(c, task["imageUrl"])
        assert grid.size == (256, 144)  # --ar 16:9, long side = grid_size, even sides
        u4 = load_image(c, mj_fetch(c, mj_press(c, task, "U4")["result"])["imageUrl"])
        assert same(u4, crop(grid, 4).resize(u4.size, Image.NEAREST))


def test_grid_quadrants_visibly_differ(emu: str, key: str) -> None:
    # compared pixel by pixel: two quadrants a quarter-turn of hue apart can still share an
    # average colour (their shapes take each other's hues), so comparing means failed for
    # some task ids; the pixel difference was >= 43/255 over 300 random seeds
    with client_for(emu, key) as c:
        for prompt in ("a koi pond", "a sleeping cat", "neon city"):
            grid = load_image(c, mj_imagine(c, prompt)["imageUrl"])
            quadrants = [crop(grid, n).convert("RGB") for n in range(1, 5)]
            for i in range(4):
                for j in range(i + 1, 4):
                    difference = sum(ImageStat.Stat(ImageChops.difference(quadrants[i], quadrants[j])).mean) / 3
                    assert difference > 25, (prompt, i, j, difference)


def test_upscale_zoom_pan_and_variation_images(emu: str, key: str) -> None:
    with client_for(emu, key) as c:
        grid_task = mj_imagine(c, "a whale in the clouds")
        single_task = mj_fetch(c, mj_press(c, grid_task, "U1")["result"])
        single = load_image(c, single_task["imageUrl"])
        hd = load_image(c, mj_fetch(c, mj_press(c, single_task, "Upscale (Subtle)")["result"])["imageUrl"])
        assert hd.size == (single.width * 2, single.height * 2)
        creative = load_image(c, mj_fetch(c, mj_press(c, single_task, "Upscale (Creative)")["result"])["imageUrl"])
        assert creative.size == hd.size and not same(creative, hd)

        zoom = load_image(c, mj_fetch(c, mj_press(c, single_task, "Zoom Out 2x")["result"])["imageUrl"])
        assert zoom.size == single.size
        qw, qh = zoom.width // 2, zoom.height // 2
        inner = single.resize((qw // 2, qh // 2), Image.LANCZOS)
        for n in range(1, 5):  # the parent, shrunk, in the centre of each new canvas
            q = crop(zoom, n)
            box = ((qw - inner.width) // 2, (qh - inner.height) // 2)
            assert same(q.crop((*box, box[0] + inner.width, box[1] + inner.height)), inner)
        assert not same(crop(zoom, 1), crop(zoom, 2))

        pan = load_image(c, mj_fetch(c, mj_press(c, single_task, "➡️")["result"])["imageUrl"])
        assert pan.size == single.size and not same(crop(pan, 1), crop(pan, 3))

        variation = load_image(c, mj_fetch(c, mj_press(c, grid_task, "V1")["result"])["imageUrl"])
        grid = load_image(c, grid_task["imageUrl"])
        assert variation.size == grid.size and not same(variation, grid)


def test_blend_follows_dimensions_and_input_colours(emu: str, key: str) -> None:
    with client_for(emu, key) as c:
        reds = [png_url((230, 20, 20)), png_url((200, 0, 40))]
        blues = [png_url((20, 20, 230)), png_url((0, 40, 200))]

        def blended(images: list[str], dimensions: str) -> Image.Image:
            res = mj_submit(c, "blend", base64Array=images, dimensions=dimensions)
            return load_image(c, mj_fetch(c, res["result"])["imageUrl"])

        red, blue = blended(reds, "PORTRAIT"), blended(blues, "LANDSCAPE")
        assert red.width * 3 == red.height * 2 or abs(red.width / red.height - 2 / 3) < 0.01
        assert abs(blue.width / blue.height - 3 / 2) < 0.01
        r, _g, b = mean(red)
        assert r > b
        r, _g, b = mean(blue)
        assert b > r


def test_images_are_deterministic_and_rendered_lazily(key: str) -> None:
    def first_grid() -> bytes:
        app = create_app(EmulatorConfig(grid_size=128))
        engine = app.state.engine
        engine.account(key)
        task = engine.imagine(key, "ohmygpt", "same prompt, same picture", "FAST").task
        assert engine._art == {}  # nothing rendered until somebody asks
        return engine.render_png(task)

    assert first_grid() == first_grid()


def test_render_cache_is_bounded(key: str) -> None:
    app = create_app(EmulatorConfig(grid_size=32))
    engine = app.state.engine
    engine.account(key)
    tasks = [engine.imagine(key, "mjproxy", f"cache {i}", "FAST").task for i in range(70)]
    first = engine.render_png(tasks[0])
    for t in tasks[1:]:
        engine.render_png(t)
    assert len(engine._art) == 64
    assert engine.render_png(tasks[0]) == first  # re-rendered identically after eviction


def test_quadrant_helper_numbering() -> None:
    img = Image.new("RGB", (4, 4))
    for n, colour in enumerate([(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0)], 1):
        x, y = ((n - 1) % 2) * 2, ((n - 1) // 2) * 2
        img.paste(colour, (x, y, x + 2, y + 2))
    assert quadrant(img, 2).getpixel((0, 0)) == (0, 255, 0)  # 2 = top-right
    assert quadrant(img, 3).getpixel((3, 3)) == (0, 0, 255)  # 3 = bottom-left
    assert quadrant(img, 4).size == (4, 4)
