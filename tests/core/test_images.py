"""Image cache: real bytes over real loopback HTTP, no httpx mocks."""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import random
import struct
import threading
import time
import zlib
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from PIL import Image

from mj_tui.core.errors import ImageError
from mj_tui.core.http import HttpClient
from mj_tui.core.images import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_PIXELS,
    ImageCache,
    crop_quadrant,
    fit_within,
    safe_filename,
)

RED, GREEN, BLUE, YELLOW = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0)
QUADRANT_COLOURS = {1: RED, 2: GREEN, 3: BLUE, 4: YELLOW}
GRID_SIZE = (640, 480)  # not square, so aspect mistakes show
SECRET = "ex=68f1c0de&is=SIGNATURE123&hm=deadbeefcafe"
SMALL_CAP = 64 * 1024


# --------------------------------------------------------------------------- payloads


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def make_grid(mode: str = "RGB", size: tuple[int, int] = GRID_SIZE) -> Image.Image:
    width, height = size
    image = Image.new("RGB", size)
    for n, colour in QUADRANT_COLOURS.items():
        x = 0 if n in (1, 3) else width // 2
        y = 0 if n in (1, 2) else height // 2
        image.paste(colour, (x, y, x + width // 2, y + height // 2))
    return image.convert(mode)


GRID_PNG = _png(make_grid())
BIG_GRID_SIZE = (2400, 1800)  # over WORK_MAX, so it gets a working copy
BIG_GRID_PNG = _png(make_grid(size=BIG_GRID_SIZE))
_noise = Image.frombytes("RGB", (200, 200), random.Random(0).randbytes(200 * 200 * 3))
CORRUPT_PNG = _png(_noise)[: len(_png(_noise)) * 6 // 10]  # cut mid-IDAT, as a crash would
HTML = b"<!doctype html><html><body>This content is no longer available.</body></html>"
HUGE = b"\x89PNG\r\n\x1a\n" + b"\0" * (4 * SMALL_CAP)
# 3000x3000 = 9 MP: over a small max_pixels, still cheap to build with Pillow.
MEDIUM_BOMB = _png(Image.new("L", (3000, 3000)))


def make_giant_bomb(size: int = 20000) -> bytes:
    """A complete, valid 1-bit PNG declaring size x size pixels (~48 KB on the wire).

    Built by hand: Pillow would need 400 MB of RAM to create it (mode "1" is one
    byte per pixel in memory).
    """

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\0" * (1 + (size + 7) // 8)  # filter byte + packed bits
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row) for _ in range(size)) + compressor.flush()
    header = struct.pack(">IIBBBBB", size, size, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


GIANT_BOMB = make_giant_bomb()


# --------------------------------------------------------------------------- loopback server


class Server:
    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.release = threading.Event()  # lets slow handlers finish at teardown
        self._count_lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def handle(self) -> None:
                # the client gives up on purpose (size cap, timeout)
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    super().handle()

            def do_GET(self) -> None:
                path = urlsplit(self.path).path
                with server._count_lock:
                    server.counts[path] += 1
                route = getattr(server, "route_" + path.strip("/").replace(".", "_").replace("-", "_"), None)
                if route is None:
                    self.reply(404, b"not found", "text/plain")
                else:
                    route(self)

            def reply(self, status: int, body: bytes, content_type: str = "image/png", **headers: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                for name, value in headers.items():
                    self.send_header(name.replace("_", "-"), value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        # a short poll keeps shutdown() (and so each test's teardown) quick
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True)

    def url(self, path: str, query: str = "") -> str:
        base = f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"
        return f"{base}?{query}" if query else base

    # routes: /name.ext -> route_name_ext
    def route_grid_png(self, h) -> None:
        h.reply(200, GRID_PNG)

    def route_big_png(self, h) -> None:
        h.reply(200, BIG_GRID_PNG)

    def route_gated_png(self, h) -> None:
        time.sleep(0.2)  # long enough for concurrent fetches to pile up
        h.reply(200, GRID_PNG)

    def route_redirect(self, h) -> None:
        h.reply(302, b"", "text/plain", Location="/grid.png?" + SECRET)

    def route_expired_png(self, h) -> None:
        h.reply(403, b"This content is no longer available.", "text/plain")

    def route_error_png(self, h) -> None:
        h.reply(500, b"upstream exploded", "text/plain")

    def route_corrupt_png(self, h) -> None:
        h.reply(200, CORRUPT_PNG)

    def route_page_html(self, h) -> None:
        h.reply(200, HTML, "text/html; charset=utf-8")

    def route_huge_cl_png(self, h) -> None:
        h.reply(200, HUGE)

    def route_huge_chunked_png(self, h) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "image/png")
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        for start in range(0, len(HUGE), 8192):
            part = HUGE[start : start + 8192]
            h.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
        h.wfile.write(b"0\r\n\r\n")

    def route_bomb_png(self, h) -> None:
        h.reply(200, GIANT_BOMB)

    def route_medium_bomb_png(self, h) -> None:
        h.reply(200, MEDIUM_BOMB)

    def route_slow_png(self, h) -> None:
        self.release.wait(5)  # no headers until teardown
        h.reply(200, GRID_PNG)

    def route_drip_png(self, h) -> None:
        # Each byte arrives well within a per-read timeout; only a total deadline stops it.
        h.send_response(200)
        h.send_header("Content-Type", "image/png")
        h.send_header("Content-Length", str(len(GRID_PNG)))
        h.end_headers()
        for i in range(len(GRID_PNG)):
            if self.release.wait(0.05):
                return
            h.wfile.write(GRID_PNG[i : i + 1])
            h.wfile.flush()


@pytest.fixture
def server():
    srv = Server()
    srv.thread.start()
    yield srv
    srv.release.set()
    srv.httpd.shutdown()
    srv.httpd.server_close()


@pytest.fixture
async def client():
    """The HTTP layer's download (what the service hands the cache)."""
    # trust_env=False: a proxy set in the environment must not intercept loopback.
    http = HttpClient("http://unused.invalid", secret=None, auth_headers=dict, trust_env=False)
    yield http.download
    await http.aclose()


@pytest.fixture
def cache(tmp_path: Path) -> ImageCache:
    return ImageCache(tmp_path / "cache")


def closed_port_url() -> str:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/gone.png?{SECRET}"


def colour_at(image: Image.Image, x: float, y: float) -> tuple[int, ...]:
    """Pixel at a fractional position, as RGB."""
    return image.convert("RGB").getpixel((int(image.width * x), int(image.height * y)))


def assert_no_query(message: str) -> None:
    assert "?" not in message
    for secret in ("SIGNATURE123", "deadbeefcafe", "68f1c0de"):
        assert secret not in message


def no_tmp_files(root: Path) -> bool:
    return not root.exists() or not list(root.glob(".*.tmp"))


# --------------------------------------------------------------------------- fetch: success and caching


def test_defaults():
    assert DEFAULT_MAX_BYTES == 50 * 1024 * 1024
    assert DEFAULT_MAX_PIXELS == 80_000_000
    cache = ImageCache(Path("/nonexistent-root"))
    assert (cache.max_bytes, cache.max_pixels) == (DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS)


async def test_fetch_downloads_once_and_serves_from_disk(server, client, cache, tmp_path):
    url = server.url("/grid.png", SECRET)
    assert cache.cached("ohmygpt-123") is None

    path = await cache.fetch(client, "ohmygpt-123", [url])
    assert path == cache.path_for("ohmygpt-123")
    assert path.read_bytes() == GRID_PNG
    assert cache.cached("ohmygpt-123") == path

    assert await cache.fetch(client, "ohmygpt-123", [url]) == path
    # a new process (fresh instance, same root) also finds it without a request
    again = ImageCache(tmp_path / "cache")
    assert await again.fetch(client, "ohmygpt-123", [url]) == path
    assert server.counts["/grid.png"] == 1
    assert no_tmp_files(cache.root)


async def test_concurrent_fetches_of_one_key_download_once(server, client, cache):
    url = server.url("/gated.png")
    paths = await asyncio.gather(*(cache.fetch(client, "mjproxy-7", [url]) for _ in range(6)))
    assert set(paths) == {cache.path_for("mjproxy-7")}
    assert server.counts["/gated.png"] == 1
    assert cache._fetch_locks == {}  # per-key locks don't pile up


async def test_concurrent_fetches_of_different_keys_run_in_parallel(server, client, cache):
    url = server.url("/gated.png")
    started = time.monotonic()
    await asyncio.gather(*(cache.fetch(client, f"k{i}", [url]) for i in range(4)))
    assert server.counts["/gated.png"] == 4
    assert time.monotonic() - started < 0.2 * 4  # not serialised behind one lock


async def test_first_working_url_wins(server, client, cache):
    urls = [server.url("/expired.png", SECRET), server.url("/grid.png"), server.url("/page.html")]
    path = await cache.fetch(client, "t1", urls)
    assert path.read_bytes() == GRID_PNG
    assert server.counts == Counter({"/expired.png": 1, "/grid.png": 1})


async def test_redirects_are_followed(server, client, cache):
    path = await cache.fetch(client, "t1", [server.url("/redirect")])
    assert path.read_bytes() == GRID_PNG
    assert server.counts["/grid.png"] == 1


async def test_corrupt_cached_file_is_detected_and_replaced(server, client, cache):
    path = cache.path_for("t1")
    path.parent.mkdir(parents=True)
    path.write_bytes(GRID_PNG[: len(GRID_PNG) // 2])  # as if truncated by a crash
    assert cache.cached("t1") is None

    assert await cache.fetch(client, "t1", [server.url("/grid.png")]) == path
    assert server.counts["/grid.png"] == 1
    assert cache.cached("t1") == path
    assert path.read_bytes() == GRID_PNG


async def test_works_over_asgi_transport(cache):
    async def app(scope, receive, send):
        assert scope["path"] == "/img/1.png"
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"image/png")]})
        await send({"type": "http.response.body", "body": GRID_PNG})

    asgi = HttpClient("http://demo", secret=None, auth_headers=dict, transport=httpx.ASGITransport(app=app))
    try:
        path = await cache.fetch(asgi.download, "demo-1", ["http://demo/img/1.png"])
    finally:
        await asgi.aclose()
    assert path.read_bytes() == GRID_PNG


def test_path_for_sanitizes_keys(tmp_path):
    cache = ImageCache(tmp_path)
    assert cache.path_for("ohmygpt-123").parent == tmp_path
    assert cache.path_for("ohmygpt-123").name.startswith("ohmygpt-123.")
    for key in ("../../etc/passwd", "a/b", "a\\b", "con", "x\x00y", "..", "🐱"):
        path = cache.path_for(key)
        assert path.parent == tmp_path
        assert path.name.count(".") == 1  # only the suffix dot: no "..", no hidden names
        assert not path.name.startswith(".")
    # keys that sanitize alike still get distinct files
    assert len({cache.path_for(k) for k in ("a/b", "a_b", "a:b", "a b")}) == 4
    with pytest.raises(ValueError):
        cache.path_for("")


# --------------------------------------------------------------------------- fetch: failures


@pytest.mark.parametrize(
    ("path", "expected", "status"),
    [
        ("/expired.png", "expired", 403),
        ("/missing.png", "expired", 404),
        ("/error.png", "HTTP 500", 500),
        ("/corrupt.png", "corrupt or incomplete", None),
        ("/page.html", "instead of an image", None),
    ],
)
async def test_fetch_errors_are_clear_and_leave_nothing(server, client, cache, path, expected, status):
    with pytest.raises(ImageError) as info:
        await cache.fetch(client, "t1", [server.url(path, SECRET)])
    err = info.value
    assert expected in err.message
    assert path in err.message  # says which link, by scheme://host/path
    assert err.status == status
    assert_no_query(str(err))
    assert_no_query(repr(err))
    assert cache.cached("t1") is None
    assert not cache.path_for("t1").exists()
    assert no_tmp_files(cache.root)


async def test_server_errors_are_retryable_expiry_is_not(server, client, cache):
    with pytest.raises(ImageError) as expired:
        await cache.fetch(client, "t1", [server.url("/expired.png")])
    with pytest.raises(ImageError) as broken:
        await cache.fetch(client, "t1", [server.url("/error.png")])
    assert not expired.value.retryable
    assert broken.value.retryable
    assert "Refresh the task" in expired.value.message


async def test_too_large_with_content_length_refused_up_front(server, client, tmp_path):
    cache = ImageCache(tmp_path, max_bytes=SMALL_CAP)
    with pytest.raises(ImageError) as info:
        await cache.fetch(client, "t1", [server.url("/huge-cl.png", SECRET)])
    message = info.value.message
    assert "256 KB" in message and "64 KB" in message  # the size and the cap
    assert_no_query(message)
    assert not cache.path_for("t1").exists()


async def test_too_large_without_content_length_stops_streaming(server, client, tmp_path):
    cache = ImageCache(tmp_path, max_bytes=SMALL_CAP)
    with pytest.raises(ImageError) as info:
        await cache.fetch(client, "t1", [server.url("/huge-chunked.png", SECRET)])
    message = info.value.message
    assert "larger than the 64 KB" in message
    assert_no_query(message)
    assert not cache.path_for("t1").exists()
    assert no_tmp_files(tmp_path)


def test_giant_bomb_payload_is_small():
    assert len(GIANT_BOMB) < 100_000
    assert len(MEDIUM_BOMB) < SMALL_CAP


async def test_decompression_bomb_rejected_by_pixel_count(server, client, cache):
    with pytest.raises(ImageError) as info:
        await cache.fetch(client, "t1", [server.url("/bomb.png", SECRET)])
    message = info.value.message
    assert "400,000,000 pixels" in message
    assert "decompression bomb" in message
    assert_no_query(message)
    assert not cache.path_for("t1").exists()


async def test_max_pixels_is_ours_not_pillows(server, client, tmp_path):
    cache = ImageCache(tmp_path, max_pixels=1_000_000)
    with pytest.raises(ImageError) as info:
        await cache.fetch(client, "t1", [server.url("/medium-bomb.png")])
    assert "3000x3000" in info.value.message
    assert "9,000,000 pixels" in info.value.message
    assert "1,000,000-pixel limit" in info.value.message
    # the same image is fine under the default cap
    assert (await ImageCache(tmp_path / "b").fetch(client, "t1", [server.url("/medium-bomb.png")])).exists()


async def test_timeout_waiting_for_headers(server, client, cache):
    started = time.monotonic()
    with pytest.raises(ImageError) as info:
        await cache.fetch(client, "t1", [server.url("/slow.png", SECRET)], timeout=0.3)
    assert time.monotonic() - started < 3
    assert "Timed out after 0.3 s" in info.value.message
    assert info.value.retryable
    assert_no_query(info.value.message)


async def test_timeout_is_a_total_deadline_not_just_per_read(server, client, cache):
    started = time.monotonic()
    with pytest.raises(ImageError) as info:
        await cache.fetch(client, "t1", [server.url("/drip.png")], timeout=0.5)
    assert time.monotonic() - started < 3
    assert "Timed out" in info.value.message
    assert not cache.path_for("t1").exists()


async def test_network_error(client, cache):
    with pytest.raises(ImageError) as info:
        await cache.fetch(client, "t1", [closed_port_url()], timeout=5)
    message = info.value.message
    assert "network error" in message
    assert "/gone.png" in message
    assert info.value.retryable
    assert_no_query(message)


async def test_every_url_failing_reports_the_last_reason(server, client, cache):
    urls = [server.url("/expired.png", SECRET), closed_port_url(), server.url("/page.html", SECRET)]
    with pytest.raises(ImageError) as info:
        await cache.fetch(client, "t1", urls, timeout=5)
    message = info.value.message
    assert "All 3 image links" in message
    assert "instead of an image" in message  # the last link's reason
    assert_no_query(message)
    assert server.counts["/expired.png"] == server.counts["/page.html"] == 1


async def test_no_usable_urls(client, cache):
    with pytest.raises(ImageError, match="no image link"):
        await cache.fetch(client, "t1", ["", "   "])
    with pytest.raises(ImageError, match="only http and https"):
        await cache.fetch(client, "t1", ["file:///etc/passwd"])


# --------------------------------------------------------------------------- crop / fit helpers


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_crop_quadrant_colours_and_size(n):
    part = crop_quadrant(make_grid(), n)
    assert part.size == (320, 240)
    corners = [(0, 0), (319, 0), (0, 239), (319, 239), (160, 120)]
    assert {part.getpixel(xy) for xy in corners} == {QUADRANT_COLOURS[n]}


@pytest.mark.parametrize("bad", [0, 5, -1, "2", None, True])
def test_crop_quadrant_rejects_bad_numbers(bad):
    with pytest.raises(ValueError):
        crop_quadrant(make_grid(), bad)


def test_fit_within_keeps_aspect_and_never_enlarges():
    grid = make_grid()
    assert fit_within(grid, 100, 100).size == (100, 75)
    assert fit_within(grid, 1000, 60).size == (80, 60)
    assert fit_within(grid, 2000, 2000).size == GRID_SIZE
    tiny = Image.new("RGB", (3, 1000))
    assert fit_within(tiny, 10, 10).size == (1, 10)  # never collapses to 0
    with pytest.raises(ValueError):
        fit_within(grid, 0, 10)


# --------------------------------------------------------------------------- previews


@pytest.fixture
async def grid_cache(server, client, cache) -> ImageCache:
    await cache.fetch(client, "ohmygpt-123", [server.url("/grid.png")])
    return cache


def test_preview_sizes_and_colours(grid_cache):
    full = grid_cache.preview("ohmygpt-123", 100, 100)
    assert full.size == (100, 75) and full.mode == "RGB"
    assert colour_at(full, 0.25, 0.25) == RED
    assert colour_at(full, 0.75, 0.75) == YELLOW

    u2 = grid_cache.preview("ohmygpt-123", 160, 160, quadrant=2)
    assert u2.size == (160, 120)
    assert {colour_at(u2, x, y) for x in (0.1, 0.5, 0.9) for y in (0.1, 0.5, 0.9)} == {GREEN}

    assert grid_cache.preview("ohmygpt-123", 5000, 5000).size == GRID_SIZE  # never upscaled
    assert grid_cache.preview("ohmygpt-123", 5000, 5000, quadrant=3).size == (320, 240)


def test_preview_keeps_alpha_and_flattens_palettes(tmp_path):
    cache = ImageCache(tmp_path)
    cache.path_for("rgba").write_bytes(_png(make_grid("RGBA")))
    cache.path_for("pal").write_bytes(_png(make_grid("P")))
    assert cache.preview("rgba", 64, 64).mode == "RGBA"
    pal = cache.preview("pal", 64, 64, quadrant=4)
    assert pal.mode == "RGB"
    assert colour_at(pal, 0.5, 0.5) == YELLOW


def test_preview_is_cached_in_memory_and_on_disk(grid_cache):
    disk = grid_cache.root / "ohmygpt-123.q2.160x160.png"
    first = grid_cache.preview("ohmygpt-123", 160, 160, quadrant=2)
    assert disk.exists()

    # memory: with the disk copy gone, the same instance still answers without re-rendering
    disk.unlink()
    assert grid_cache.preview("ohmygpt-123", 160, 160, quadrant=2).tobytes() == first.tobytes()
    assert not disk.exists()

    # disk: a fresh instance reads the preview file instead of the original (proved by
    # planting a purple one)
    Image.new("RGB", (160, 120), (128, 0, 128)).save(disk)
    fresh = ImageCache(grid_cache.root)
    assert colour_at(fresh.preview("ohmygpt-123", 160, 160, quadrant=2), 0.5, 0.5) == (128, 0, 128)

    # callers get copies: drawing on one doesn't poison the cache
    first.paste((0, 0, 0), (0, 0, 160, 120))
    assert colour_at(grid_cache.preview("ohmygpt-123", 160, 160, quadrant=2), 0.5, 0.5) == GREEN


def test_stale_disk_preview_is_ignored(grid_cache):
    disk = grid_cache.root / "ohmygpt-123.full.64x64.png"
    Image.new("RGB", (64, 48), (128, 0, 128)).save(disk)
    # the preview predates the original: it was made from an older download
    original = grid_cache.path_for("ohmygpt-123").stat()
    os.utime(disk, ns=(original.st_atime_ns, original.st_mtime_ns - 10**9))
    fresh = ImageCache(grid_cache.root)
    assert colour_at(fresh.preview("ohmygpt-123", 64, 64), 0.25, 0.25) == RED


def test_disk_previews_per_key_are_bounded(grid_cache):
    for size in range(20, 120, 10):
        grid_cache.preview("ohmygpt-123", size, size)
    assert len(list(grid_cache.root.glob("ohmygpt-123.full.*.png"))) <= 6


async def test_refetch_replaces_previews(server, client, cache):
    path = cache.path_for("t1")
    path.parent.mkdir(parents=True)
    stale = cache.root / "t1.full.64x64.png"
    Image.new("RGB", (64, 48), (128, 0, 128)).save(stale)
    path.write_bytes(b"garbage")
    assert cache.cached("t1") is None
    await cache.fetch(client, "t1", [server.url("/grid.png")])
    assert not stale.exists()
    assert colour_at(cache.preview("t1", 64, 64), 0.25, 0.25) == RED


# --------------------------------------------------------------------------- working copy

PURPLE = (128, 0, 128)


def plant_work(cache: ImageCache, key: str, size: tuple[int, int]) -> Path:
    """Replace the working copy with a purple one: a preview that comes out purple came from it."""
    work = cache.root / (cache.path_for(key).name.removesuffix(".original") + ".work.ppm")
    assert work.exists()
    Image.new("RGB", size, PURPLE).save(work, format="PPM")
    return work


async def test_big_download_gets_a_working_copy_that_previews_use(server, client, cache):
    await cache.fetch(client, "big", [server.url("/big.png")])
    work = cache.root / "big.work.ppm"
    with Image.open(work) as image:
        assert image.size == (1024, 768) and image.format == "PPM"
    full = cache.preview("big", 200, 200)
    assert full.size == (200, 150)
    assert colour_at(full, 0.25, 0.25) == RED and colour_at(full, 0.75, 0.75) == YELLOW
    u2 = cache.preview("big", 300, 300, quadrant=2)
    assert u2.size == (300, 225) and colour_at(u2, 0.5, 0.5) == GREEN
    # proof of where it came from: a purple copy makes purple previews in a fresh cache
    plant_work(cache, "big", (1024, 768))
    assert colour_at(ImageCache(cache.root).preview("big", 120, 120), 0.5, 0.5) == PURPLE


async def test_a_box_bigger_than_the_working_copy_reads_the_original(server, client, cache):
    await cache.fetch(client, "big", [server.url("/big.png")])
    plant_work(cache, "big", (1024, 768))
    fresh = ImageCache(cache.root)
    # a quadrant of the copy is 512x384: a 800x800 box wants more, so the original is read
    u2 = fresh.preview("big", 800, 800, quadrant=2)
    assert u2.size == (800, 600) and colour_at(u2, 0.5, 0.5) == GREEN
    assert colour_at(fresh.preview("big", 1000, 1000), 0.5, 0.5) == PURPLE  # the copy covers this one


async def test_stale_or_damaged_working_copy_is_not_used(server, client, cache):
    await cache.fetch(client, "big", [server.url("/big.png")])
    work = plant_work(cache, "big", (1024, 768))
    original = cache.path_for("big").stat()
    os.utime(work, ns=(original.st_atime_ns, original.st_mtime_ns - 10**9))  # older than the original
    assert colour_at(ImageCache(cache.root).preview("big", 64, 64), 0.25, 0.25) == RED
    work.write_bytes(b"P6\n1024 768\n255\n" + b"\0" * 100)  # truncated
    assert colour_at(ImageCache(cache.root).preview("big", 66, 66), 0.25, 0.25) == RED


async def test_refetch_drops_the_working_copy_and_makes_a_new_one(server, client, cache):
    await cache.fetch(client, "big", [server.url("/big.png")])
    plant_work(cache, "big", (1024, 768))
    cache.path_for("big").write_bytes(b"garbage")
    assert cache.cached("big") is None
    await cache.fetch(client, "big", [server.url("/big.png")])
    assert colour_at(cache.preview("big", 64, 64), 0.25, 0.25) == RED


def test_an_older_cache_gets_its_working_copy_on_first_preview(tmp_path):
    cache = ImageCache(tmp_path)
    cache.path_for("old").write_bytes(BIG_GRID_PNG)  # downloaded before working copies existed
    assert not (tmp_path / "old.work.ppm").exists()
    assert colour_at(cache.preview("old", 64, 64), 0.75, 0.25) == GREEN
    with Image.open(tmp_path / "old.work.ppm") as image:
        assert image.size == (1024, 768)


def test_small_or_transparent_originals_get_no_working_copy(tmp_path):
    cache = ImageCache(tmp_path)
    cache.path_for("small").write_bytes(GRID_PNG)
    cache.path_for("alpha").write_bytes(_png(make_grid("RGBA", size=BIG_GRID_SIZE)))
    cache.preview("small", 64, 64)
    assert cache.preview("alpha", 64, 64).mode == "RGBA"
    assert not list(tmp_path.glob("*.work.ppm"))


async def test_previews_carry_their_png_bytes(server, client, cache):
    from mj_tui.core.images import PNG_BYTES

    await cache.fetch(client, "big", [server.url("/big.png")])
    made = cache.preview("big", 90, 90)  # from the working copy, saved as a disk preview
    disk = cache.root / "big.full.90x90.png"
    assert made.info[PNG_BYTES] == disk.read_bytes()
    read = ImageCache(cache.root).preview("big", 90, 90)  # a new session reads that file
    assert read.info[PNG_BYTES] == disk.read_bytes()
    assert Image.open(io.BytesIO(read.info[PNG_BYTES])).tobytes() == read.tobytes() == made.tobytes()


def test_preview_of_missing_or_damaged_original(tmp_path):
    cache = ImageCache(tmp_path)
    with pytest.raises(ImageError, match="not downloaded yet"):
        cache.preview("nope", 10, 10)

    # A truncated JPEG passes verify(); the real decode in preview() catches it and
    # marks the file bad so that fetch() downloads it again.
    buffer = io.BytesIO()
    _noise.save(buffer, format="JPEG")
    cache.path_for("t1").write_bytes(buffer.getvalue()[:2000])
    assert cache.cached("t1") is not None
    with pytest.raises(ImageError, match="damaged"):
        cache.preview("t1", 10, 10)
    assert cache.cached("t1") is None


def test_preview_rejects_bad_arguments(grid_cache):
    with pytest.raises(ValueError):
        grid_cache.preview("ohmygpt-123", 0, 10)
    with pytest.raises(ValueError):
        grid_cache.preview("ohmygpt-123", 10, 10, quadrant=5)


# --------------------------------------------------------------------------- export


def test_export_full_never_overwrites(grid_cache, tmp_path):
    dest = tmp_path / "out" / "nested"
    first = grid_cache.export("ohmygpt-123", dest, "123-cat.png")
    second = grid_cache.export("ohmygpt-123", dest, "123-cat.png")
    third = grid_cache.export("ohmygpt-123", dest, "123-cat")
    assert [p.name for p in (first, second, third)] == ["123-cat.png", "123-cat (2).png", "123-cat (3).png"]
    assert all(p.parent == dest for p in (first, second, third))
    assert first.read_bytes() == GRID_PNG  # PNG originals are copied losslessly


def test_export_quadrant_at_full_resolution(grid_cache, tmp_path):
    out = grid_cache.export("ohmygpt-123", tmp_path, "u3", quadrant=3)
    with Image.open(out) as image:
        assert image.format == "PNG"
        assert image.size == (320, 240)
        assert colour_at(image, 0.5, 0.5) == BLUE


def test_export_keeps_a_webp_or_jpeg_original_and_converts_the_rest_to_png(tmp_path):
    cache = ImageCache(tmp_path / "c")
    cache.path_for("w").parent.mkdir(parents=True)
    for fmt, options, ext in [("WEBP", {"lossless": True}, ".webp"), ("JPEG", {}, ".jpg"), ("GIF", {}, ".png")]:
        buffer = io.BytesIO()
        make_grid().save(buffer, format=fmt, **options)
        cache.path_for("w").write_bytes(buffer.getvalue())
        out = cache.export("w", tmp_path / "out", "w.png")
        assert out.suffix == ext
        with Image.open(out) as image:
            assert image.format == ("PNG" if ext == ".png" else fmt) and image.size == GRID_SIZE
            assert all(abs(a - b) <= 8 for a, b in zip(colour_at(image, 0.75, 0.25), GREEN, strict=False))
        if ext != ".png":
            assert out.read_bytes() == buffer.getvalue()  # no story asked for: the original as it is


def test_export_filename_cannot_escape_dest(grid_cache, tmp_path):
    dest = tmp_path / "out"
    for name in ("../../evil.png", "..\\..\\evil.png", "/etc/evil.png"):
        out = grid_cache.export("ohmygpt-123", dest, name)
        assert out.parent == dest and out.name.startswith("evil")
    assert grid_cache.export("ohmygpt-123", dest, "..").parent == dest
    assert not (tmp_path / "evil.png").exists()


def test_export_missing_key(tmp_path):
    with pytest.raises(ImageError, match="not downloaded yet"):
        ImageCache(tmp_path).export("nope", tmp_path / "out", "x.png")


# --------------------------------------------------------------------------- safe_filename


@pytest.mark.parametrize(
    ("task_id", "prompt", "quadrant", "expected"),
    [
        ("123", "A Cat in Space, cinematic --ar 16:9 --v 6.1", None, "123-a-cat-in-space-cinematic.png"),
        ("123", "A Cat in Space", 2, "123-a-cat-in-space-u2.png"),
        ("42", "Café crème — brûlée", None, "42-cafe-creme-brulee.png"),
        ("42", "https://cdn.discordapp.com/a/b.png?ex=1 a red fox", None, "42-a-red-fox.png"),
        ("42", "🐱🚀", None, "42.png"),
        ("42", "猫と宇宙", None, "42.png"),
        ("42", "", 4, "42-u4.png"),
        ("42", "--ar 1:1", None, "42.png"),
        ("../../etc", "../../passwd\x00\n\x1b[31m", None, "etc-passwd-31m.png"),
        ("a/b\\c", "x", None, "a-b-c-x.png"),
        ("", "", None, "image.png"),
        ("CON", "", None, "_CON.png"),
    ],
)
def test_safe_filename(task_id, prompt, quadrant, expected):
    assert safe_filename(task_id, prompt, quadrant=quadrant) == expected


def test_safe_filename_is_always_safe():
    nasty = ["../..", "a/../../b", "\x00\x01\x7f", "..\\..\\x", " . ", "C:\\Windows\\system32", "🐱" * 300]
    for task_id in [*nasty, "mj-1"]:
        for prompt in nasty:
            name = safe_filename(task_id, prompt, quadrant=1)
            assert "/" not in name and "\\" not in name and ".." not in name
            assert name.isprintable() and name.isascii()
            assert name.endswith("-u1.png") and not name.startswith(".")


def test_safe_filename_slug_limit_ends_on_a_word():
    prompt = "an extraordinarily detailed watercolour painting of a lighthouse on a cliff at dawn"
    name = safe_filename("9", prompt)
    slug = name.removeprefix("9-").removesuffix(".png")
    assert len(slug) <= 48
    assert prompt.replace(" ", "-").startswith(slug)
    assert not slug.endswith("-")
    assert prompt.replace(" ", "-")[len(slug)] == "-"  # cut between words
    assert len(safe_filename("9", "x" * 100).removeprefix("9-").removesuffix(".png")) == 48


def test_safe_filename_ext_and_quadrant_validation():
    assert safe_filename("1", "cat", ext=".JPG") == "1-cat.jpg"
    assert safe_filename("1", "cat", ext="") == "1-cat.png"
    with pytest.raises(ValueError):
        safe_filename("1", "cat", quadrant=0)
