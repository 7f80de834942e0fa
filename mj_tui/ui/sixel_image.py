"""The Sixel image widget, with the picture encoded before it is drawn.

textual-image's Sixel widget encodes the picture while the frame is drawn, on the
UI thread: without numpy (which mj-tui does not pull in: it would slow every start)
that is 0.1-0.45 s for a 580x580 preview (the more colours, the longer), time in
which no key is handled (benchmarks/preview.py).
As with kitty (kitty_image.py), the preview's worker thread does it (`prepare`) and
the widget takes the ready text when the size and background it draws with are
the ones prepared for; otherwise the library encodes as before.  Built on
textual-image 0.12 internals (pinned in pyproject.toml); tests/ui/test_sixel_image.py
checks both paths.
"""

from __future__ import annotations

from PIL import Image as PILImage
from textual_image._pixeldata import PixelData
from textual_image._sixel import image_to_sixels
from textual_image.widget.sixel import Image as SixelBase
from textual_image.widget.sixel import _ImageSixelImpl, _NoopRenderable

_PAYLOAD = "mj_tui.sixel"  # key in the PIL image's .info: ((width, height), background, sixel text)


def prepare(image: PILImage.Image, pixel_size: tuple[int, int], background: tuple | None = None) -> dict:
    """Scale and encode `image` as the widget would for `pixel_size` on `background`
    (an (r, g, b, a) tuple, the widget's own; call it off the UI thread)."""
    width, height = pixel_size
    # the library's own steps, in its order: scale, crop to what is visible (all of it)
    pixels = PixelData(image).scaled(width, height).cropped(0, 0, width, height).pil_image
    image.info[_PAYLOAD] = (pixel_size, background, image_to_sixels(pixels, None, background))
    return {_PAYLOAD: image.info[_PAYLOAD]}  # what to put back in .info to skip all this next time


class _PreparedSixels(_ImageSixelImpl):
    def _image_to_sixels(self, image, sixel_options=None, background=None) -> str:
        prepared = self.image.info.get(_PAYLOAD) if isinstance(self.image, PILImage.Image) else None
        if prepared is not None and sixel_options is None and prepared[:2] == (image.size, background):
            return prepared[2]
        return super()._image_to_sixels(image, sixel_options, background)


class SixelImage(SixelBase, Renderable=_NoopRenderable):
    """SixelImage whose pictures can be prepared in a worker thread (see `prepare`)."""

    prepare = staticmethod(prepare)

    def compose(self):
        yield _PreparedSixels(self.image, self._sixel_options)
