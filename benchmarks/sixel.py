"""Sixel encoders on a pane-sized picture (580x580): time and bytes.

- mj-tui's own (mj_tui/ui/sixel_encode.py): Pillow's fast-octree palette with dithering,
  bands encoded with bytes.translate and big-integer arithmetic;
- textual-image's, which mj-tui used before (its palette and pixel loop in Python);
- ImageMagick's `convert ... sixel:-`, where installed (a process per picture: not an
  option inside the app, the reference for what a clean encoding looks like).

Two pictures: photo-like noise over gradients (the worst case: every colour in every
band) and the demo's flat art (a grid from the emulator).
"""

from __future__ import annotations

import io
import shutil
import statistics
import subprocess
import sys
import time

from .common import Report

RUNS = 3


def _pictures() -> dict:
    from PIL import Image

    from mj_tui.emulator.art import family_of, grid

    from .preview import photo_like_png

    photo = Image.open(io.BytesIO(photo_like_png(580))).convert("RGB")
    art = grid((580, 580), family_of("a lighthouse in fog"), "bench").convert("RGB")
    return {"photo-like": photo, "demo art": art}


def _timed(encode, image) -> tuple[float, int]:
    times: list[float] = []
    size = 0
    for _ in range(RUNS):
        start = time.perf_counter()
        size = len(encode(image))
        times.append(time.perf_counter() - start)
    return statistics.median(times), size


def run() -> Report:
    from unittest import mock

    from mj_tui.ui.sixel_encode import encode as ours

    with mock.patch.object(sys, "__stdin__", None):  # textual-image asks the terminal nothing
        from textual_image._sixel import image_to_sixels

    report = Report(f"Sixel encoders, 580x580 (median of {RUNS})")
    for name, image in _pictures().items():
        encoders = {"mj-tui": ours, "textual-image": image_to_sixels}
        if shutil.which("convert"):

            def magick(picture):
                buffer = io.BytesIO()
                picture.save(buffer, format="png")
                done = subprocess.run(["convert", "png:-", "sixel:-"], input=buffer.getvalue(), capture_output=True)
                return done.stdout

            encoders["ImageMagick (reference)"] = magick
        for who, encode in encoders.items():
            seconds, size = _timed(encode, image)
            report.add(f"{name}: {who}", f"{seconds * 1000:.0f} ms", f"{size:,} B")
    return report


if __name__ == "__main__":
    run().print()
