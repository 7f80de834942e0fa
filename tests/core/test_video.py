"""Video, edit, retexture, uploads and seeds through the service, over real HTTP to the
emulator (midjourney-proxy), and OhMyGPT's refusals of each."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from mj_tui.core.errors import InvalidRequest, QuotaReached, TaskNotFound, Unsupported
from mj_tui.core.images.videos import read_comment, video_kind
from mj_tui.core.models import Action, ButtonKind, ProviderKind, Status, Task
from mj_tui.core.service import MjService


def picture_file(path, colour=(30, 120, 200), size=(64, 48)):
    img = Image.new("RGB", size, colour)
    img.putpixel((1, 1), (255, 255, 255))
    img.save(path, "PNG")
    return path


async def upscaled(service: MjService, prompt: str = "a red fox", n: int = 1) -> Task:
    grid = await service.wait((await service.imagine(prompt)).id, timeout=30)
    button = next(b for b in grid.buttons if b.kind == ButtonKind.UPSCALE and b.index == n)
    return await service.wait((await service.press(grid, button)).task.id, timeout=30)


@pytest.fixture
def proxy(make_service) -> MjService:
    return make_service(ProviderKind.MJPROXY)


async def test_animate_video_upscale_extend_and_save(proxy, tmp_path):
    single = await upscaled(proxy)
    animate = {b.display: b for b in single.buttons if b.kind == ButtonKind.ANIMATE}
    assert set(animate) == {"🎞️ Animate (High motion)", "🎞️ Animate (Low motion)"}
    high = next(b for b in animate.values() if b.motion == "high")
    outcome = await proxy.press(single, high)
    assert outcome.task.action == Action.VIDEO and outcome.task.status == Status.NOT_START
    videos = await proxy.wait(outcome.task.id, timeout=30)
    assert videos.status == Status.SUCCESS and videos.is_video and videos.parent_id == single.id
    assert len(videos.video_urls) == 4 and all(videos.video_thumbnails)
    assert "--motion high" in videos.prompt and videos.image_url  # a still of it, for the preview
    ups = [b for b in videos.buttons if b.kind == ButtonKind.VIDEO_UPSCALE]
    assert [b.display for b in ups] == ["U1", "U2", "U3", "U4"] and [b.index for b in ups] == [1, 2, 3, 4]
    one = await proxy.wait((await proxy.press(videos, ups[2])).task.id, timeout=30)
    assert one.action == Action.UPSCALE and one.is_video and len(one.video_urls) == 1
    extend = [b for b in one.buttons if b.kind == ButtonKind.EXTEND]
    assert [b.label for b in extend] == ["Extend (High motion)", "Extend (Low motion)"]
    longer = await proxy.wait((await proxy.press(one, extend[1])).task.id, timeout=30)
    assert longer.action == Action.VIDEO and "--motion low" in longer.prompt and len(longer.video_urls) == 4

    saved = await proxy.save_video(one, tmp_path / "out")
    data = saved.path.read_bytes()
    assert video_kind(data) == saved.path.suffix[1:] and saved.path.stat().st_size > 1000
    if saved.embedded:  # GIFs and moov-last MP4s carry the prompt; a fast-start MP4 a sidecar
        assert "a red fox" in (read_comment(data) or "")
    else:
        assert saved.sidecar is not None and "a red fox" in saved.sidecar.read_text()


async def test_video_from_a_file_is_uploaded_first_and_journalled(proxy, control, tmp_path):
    def uploads() -> int:
        counts = control.get("/_emulator/state").json()["requests"]
        return sum(n for path, n in counts.items() if path.endswith("/submit/upload-discord-images"))

    before = uploads()
    task = await proxy.video(picture_file(tmp_path / "cat.png"), prompt="the cat turns", motion="high", batch=2)
    assert uploads() == before + 1
    done = await proxy.wait(task.id, timeout=30)
    assert done.status == Status.SUCCESS and len(done.video_urls) == 2
    assert done.base_image_url and done.base_image_url.startswith("http")  # a link, not base64
    assert "--bs 2" in done.prompt and "--motion high" in done.prompt
    assert proxy.get_cached(task.id) is not None


async def test_video_from_a_grid_needs_a_quadrant(proxy):
    grid = await proxy.wait((await proxy.imagine("a koi pond")).id, timeout=30)
    with pytest.raises(InvalidRequest, match="grid of four"):
        await proxy.video(grid, prompt="ripples")
    task = await proxy.video(grid, prompt="ripples", quadrant=3, loop=True, batch=1)
    done = await proxy.wait(task.id, timeout=30)
    assert "--end loop" in done.prompt and len(done.video_urls) == 1


async def test_bad_pictures_are_refused_before_anything_is_sent(proxy, control, tmp_path):
    not_image = tmp_path / "notes.png"
    not_image.write_bytes(b"this is text, not a picture")
    huge = tmp_path / "huge.png"
    with huge.open("wb") as f:
        f.truncate(50 * 1024 * 1024)
    before = control.get("/_emulator/state").json()["requests_total"]
    with pytest.raises(InvalidRequest, match="not a readable image"):
        await proxy.video(not_image, prompt="x")
    with pytest.raises(InvalidRequest, match="MB"):
        await proxy.video(huge, prompt="x")
    with pytest.raises(InvalidRequest, match="low or high"):
        await proxy.video(picture_file(tmp_path / "a.png"), prompt="x", motion="wild")
    with pytest.raises(InvalidRequest, match="1, 2 or 4"):
        await proxy.video(picture_file(tmp_path / "a.png"), prompt="x", batch=3)
    assert control.get("/_emulator/state").json()["requests_total"] == before


async def test_edit_and_retexture(proxy, tmp_path):
    single = await upscaled(proxy, "a paper crane")
    edited = await proxy.wait((await proxy.edit(single, "a paper crane in a hat")).id, timeout=30)
    assert edited.action == Action.EDIT and edited.is_grid and edited.status == Status.SUCCESS
    retextured = await proxy.wait(
        (await proxy.retexture(picture_file(tmp_path / "c.png"), "made of glass")).id, timeout=30
    )
    assert retextured.action == Action.RETEXTURE and "--dref http" in retextured.prompt
    with pytest.raises(InvalidRequest, match="needs a prompt"):
        await proxy.edit(single, "  ")


async def test_upload_gives_links_the_server_serves(proxy, tmp_path):
    urls = await proxy.upload([picture_file(tmp_path / "a.png"), picture_file(tmp_path / "b.png", (200, 0, 0))])
    assert len(urls) == 2 and all(u.startswith("http") for u in urls)
    got = await proxy.provider.http.download(urls[1], max_bytes=10**6)
    assert Image.open(io.BytesIO(got.body)).size == (64, 48)


async def test_seed_is_asked_once_stored_and_saved_with_the_picture(proxy, control, tmp_path):
    from mj_tui.core.images import read_metadata

    single = await upscaled(proxy, "a lantern market")
    value = await proxy.seed(single)
    assert value.isdigit()
    stored = proxy.get_cached(single.id)
    assert stored is not None and stored.seed == value
    fresh = await proxy.refresh(single.id)  # a later read keeps it
    assert fresh.seed == value
    before = control.get("/_emulator/state").json()["requests_total"]
    assert await proxy.seed(fresh) == value
    assert control.get("/_emulator/state").json()["requests_total"] == before
    saved = await proxy.export(fresh, tmp_path)
    assert read_metadata(saved)["seed"] == value
    with pytest.raises(TaskNotFound):
        await proxy.provider.image_seed("1111111111111111")


async def test_a_daily_cap_is_a_clear_limit(proxy, control, tmp_path):
    control.post("/_emulator/config", json={"proxy_daily_limit": 0})
    with pytest.raises(QuotaReached) as caught:
        await proxy.video("https://example.com/cat.png", prompt="x")
    assert "用户今日绘图次数已达上限" in str(caught.value)  # the server's words, kept as they are


async def test_ohmygpt_says_why_not_for_each(make_service, control, tmp_path):
    omg = make_service(ProviderKind.OHMYGPT)
    before = control.get("/_emulator/state").json()["requests_total"]
    caps = omg.capabilities
    assert not (caps.video or caps.edit or caps.upload or caps.seed)
    for call in (
        omg.video("https://example.com/a.png", prompt="x"),
        omg.edit("https://example.com/a.png", "x"),
        omg.retexture("https://example.com/a.png", "x"),
        omg.upload([picture_file(tmp_path / "a.png")]),
    ):
        with pytest.raises(Unsupported, match="OhMyGPT"):
            await call
    with pytest.raises(Unsupported, match="seeds"):
        await omg.provider.image_seed("42")
    assert control.get("/_emulator/state").json()["requests_total"] == before


async def test_a_queued_job_shows_its_place(proxy, control):
    control.post("/_emulator/config", json={"job_seconds": 60, "proxy_concurrency": 1})
    await proxy.imagine("the first fox")
    await proxy.imagine("the second fox")
    third = await proxy.video("https://example.com/cat.png", prompt="it runs")
    assert third.queued_ahead == 1 and third.description == "排队中，前面还有1个任务"
    assert proxy.get_cached(third.id).queued_ahead == 1


async def test_videos_and_edits_are_found_by_action(proxy):
    task = await proxy.video("https://example.com/cat.png", prompt="a cat stretches")
    await proxy.wait(task.id, timeout=30)
    edited = await proxy.edit("https://example.com/cat.png", "a cat in a scarf")
    assert [t.id for t in proxy.search("action:video").tasks] == [task.id]
    assert [t.id for t in proxy.search("action:edit scarf").tasks] == [edited.id]
    assert proxy.search("action:retexture").tasks == []


async def test_a_video_whose_answer_is_lost_is_sent_once_and_kept_unconfirmed(proxy, control):
    from mj_tui.core.errors import OutcomeUnknown

    def videos_sent() -> int:
        counts = control.get("/_emulator/state").json()["requests"]
        return sum(n for path, n in counts.items() if path.endswith("/submit/video"))

    control.post("/_emulator/faults", json={"next": [{"kind": "truncate"}], "path_contains": "/submit/video"})
    before = videos_sent()
    with pytest.raises(OutcomeUnknown, match="not sent again") as info:
        await proxy.video("https://example.com/cat.png", prompt="a cat whose receipt was lost")
    assert info.value.task.status == Status.UNCONFIRMED and info.value.task.action == Action.VIDEO
    assert videos_sent() - before == 1


async def test_animate_with_a_prompt_goes_through_its_dialog(proxy):
    single = await upscaled(proxy, "a glass greenhouse")
    low = next(b for b in single.buttons if b.kind == ButtonKind.ANIMATE and b.motion == "low")
    outcome = await proxy.press(single, low, prompt="rain runs down the glass")
    assert not outcome.modal_required
    done = await proxy.wait(outcome.task.id, timeout=30)
    assert done.status == Status.SUCCESS and done.is_video and done.prompt == "rain runs down the glass"
