"""The kitty-graphics image widget, with the picture encoded before it is drawn.

textual-image's TGP renderable scales the picture and encodes it as PNG while the
frame is drawn, on the UI thread: ~55 ms for a 580x580 preview (benchmarks/preview.py),
three frames in which no key is handled.  The preview's worker thread already holds
the picture, so it does that work there (`prepare`); the renderable below sends the
ready payload and only falls back to the library's own path when the drawn size
differs from the prepared one.  Built on textual-image 0.12 internals (pinned in
pyproject.toml); tests/ui/test_kitty_image.py checks both paths.
"""

from __future__ import annotations

import io
from base64 import b64encode

from PIL import Image as PILImage
from textual_image.renderable import tgp
from textual_image.widget._base import Image as BaseImage

_PAYLOAD = "mj_tui.kitty_png_base64"  # key in the PIL image's .info: ((width, height), base64 PNG)
_CHUNK = 4096  # the protocol's limit per escape sequence


def prepare(image: PILImage.Image, pixel_size: tuple[int, int]) -> dict:
    """Scale and encode `image` as the renderable would for `pixel_size` (call it off the UI thread).

    A preview that came with its PNG bytes (the disk preview, see core.images) at
    exactly that size is not encoded again.
    """
    from ..core.images import PNG_BYTES  # not at import: it loads httpx, which start-up does without

    png = image.info.get(PNG_BYTES) if image.size == pixel_size else None
    if not isinstance(png, bytes):
        scaled = image if image.size == pixel_size else image.resize(pixel_size)
        buffer = io.BytesIO()
        scaled.save(buffer, format="png", compress_level=2)  # as textual-image encodes it
        png = buffer.getvalue()
    image.info[_PAYLOAD] = (pixel_size, b64encode(png).decode("ascii"))
    return {_PAYLOAD: image.info[_PAYLOAD]}  # what to put back in .info to skip all this next time


class _PreparedRenderable(tgp.Image):
    def __init__(self, image, width=None, height=None) -> None:
        self._prepared = image.info.get(_PAYLOAD) if isinstance(image, PILImage.Image) else None
        super().__init__(image, width, height)

    def _send_image_to_terminal(self, width: int, height: int) -> None:
        if self._prepared is None or self._prepared[0] != (width, height):
            super()._send_image_to_terminal(width, height)
            return
        self.terminal_image_id = next(tgp.Image._image_id_counter)
        data = self._prepared[1]
        for start in range(0, len(data), _CHUNK):
            more = start + _CHUNK < len(data)
            tgp._send_tgp_message(i=self.terminal_image_id, m=1 if more else 0, f=100,
                                  payload=data[start:start + _CHUNK], q=2)


class KittyImage(BaseImage, Renderable=_PreparedRenderable):
    """TGPImage whose pictures can be prepared in a worker thread (see `prepare`)."""

    prepare = staticmethod(prepare)
