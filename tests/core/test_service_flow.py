"""The whole job lifecycle through the real client and the emulator, both dialects."""

from __future__ import annotations

import asyncio

import pytest
from PIL import Image, ImageChops, ImageStat

from mj_tui.core.errors import InvalidRequest, Unsupported
from mj_tui.core.images import crop_quadrant
from mj_tui.core.models import ButtonKind, Mode, ProviderKind, Status
from mj_tui.core.uploads import png_data_uri

GRID_LABELS = ["U1", "U2", "U3", "U4", "🔄", "V1", "V2", "V3", "V4"]


def button(task, display):
    return next(b for b in task.buttons if b.display == display)


def mean_difference(a: Image.Image, b: Image.Image) -> float:
    b = b.resize(a.size)
    diff = ImageChops.difference(a.convert("RGB"), b.convert("RGB"))
    return sum(ImageStat.Stat(diff).mean) / 3


async def test_imagine_to_upscaled_quadrant(service, kind):
    task = await service.imagine("a red fox in the snow", mode=Mode.FAST)
    assert task.status == Status.NOT_START and task.id
    done = await service.wait(task.id, timeout=30)
    assert done.status == Status.SUCCESS and done.progress == 100
    assert [b.display for b in done.buttons] == GRID_LABELS
    assert done.mode == Mode.FAST

    grid_path = await service.fetch_image(done)
    u2 = await service.press(done, button(done, "U2"))
    assert not u2.modal_required and u2.task.parent_id == done.id
    upscaled = await service.wait(u2.task.id, timeout=30)
    assert upscaled.status == Status.SUCCESS
    assert ButtonKind.UPSCALE not in {b.kind for b in upscaled.buttons}
    assert {"Vary (Strong)", "Zoom Out 2x"} <= {b.label for b in upscaled.buttons}

    with Image.open(grid_path) as grid, Image.open(await service.fetch_image(upscaled)) as single:
        top_right = crop_quadrant(grid, 2)
        # U2 is exactly the top-right cell, enlarged; every other cell differs clearly
        assert mean_difference(single, top_right) < 3
        assert all(mean_difference(single, crop_quadrant(grid, n)) > 10 for n in (1, 3, 4))


async def test_second_fetch_of_an_image_uses_the_cache(service, control):
    done = await service.wait((await service.imagine("cached lighthouse")).id, timeout=30)
    first = await service.fetch_image(done)
    before = service.request_count
    again = await service.fetch_image(done)
    assert again == first and service.request_count == before


async def test_turbo(make_service):
    ohmygpt = make_service(ProviderKind.OHMYGPT)
    with pytest.raises(Unsupported, match="not offered by OhMyGPT"):
        await ohmygpt.imagine("fast cat", mode=Mode.TURBO)
    proxy = make_service(ProviderKind.MJPROXY)
    task = await proxy.imagine("fast cat", mode=Mode.TURBO)
    done = await proxy.wait(task.id, timeout=30)
    assert done.status == Status.SUCCESS and done.mode == Mode.TURBO


async def test_action_keeps_the_parent_mode(service, kind):
    parent = await service.wait((await service.imagine("slow river", mode=Mode.RELAX)).id, timeout=30)
    assert parent.mode == Mode.RELAX
    outcome = await service.press(parent, button(parent, "V3"))
    child = await service.wait(outcome.task.id, timeout=30)
    assert child.status == Status.SUCCESS and child.mode == Mode.RELAX
    assert [b.display for b in child.buttons] == GRID_LABELS


async def test_empty_prompt_is_refused_locally(service):
    with pytest.raises(InvalidRequest):
        await service.imagine("   ")
    assert service.request_count == 0


async def test_paging(service, kind):
    ids = []
    for i in range(7):
        task = await service.imagine(f"page test {i}")
        ids.append((await service.wait(task.id, timeout=30)).id)
    first = await service.page(1, 5)
    second = await service.page(2, 5)
    assert (first.total, first.pages) == (7, 2)
    assert [t.id for t in first.tasks] == ids[::-1][:5]
    assert [t.id for t in second.tasks] == ids[::-1][5:]
    # the cached copy answers instantly and agrees
    cached = service.cached_page(1, 5)
    assert [t.id for t in cached.tasks] == [t.id for t in first.tasks] and cached.total == 7


async def test_modal_custom_zoom_and_vary_region(make_service):
    service = make_service(ProviderKind.MJPROXY)
    grid = await service.wait((await service.imagine("castle on a hill")).id, timeout=30)
    single = await service.wait((await service.press(grid, button(grid, "U1"))).task.id, timeout=30)
    custom = next(b for b in single.buttons if b.kind == ButtonKind.CUSTOM_ZOOM)
    outcome = await service.press(single, custom)
    assert outcome.modal_required and outcome.task.status == Status.MODAL
    assert "--zoom" in outcome.final_prompt
    zoomed = await service.submit_modal(outcome.task, "castle on a hill --zoom 1.5")
    assert (await service.wait(zoomed.id, timeout=30)).status == Status.SUCCESS

    region = next(b for b in single.buttons if b.kind == ButtonKind.VARY_REGION)
    with pytest.raises(InvalidRequest, match="mask"):
        await service.press(single, region)
    mask = Image.new("L", (256, 256), 0)
    mask.paste(255, (0, 0, 128, 128))
    varied = await service.press(single, region, prompt="a dragon on the castle", mask=png_data_uri(mask))
    assert not varied.modal_required
    assert (await service.wait(varied.task.id, timeout=30)).status == Status.SUCCESS


async def test_vary_region_on_ohmygpt_sends_the_mask_with_the_action(make_service):
    service = make_service(ProviderKind.OHMYGPT)
    grid = await service.wait((await service.imagine("harbour at dusk")).id, timeout=30)
    single = await service.wait((await service.press(grid, button(grid, "U4"))).task.id, timeout=30)
    region = next(b for b in single.buttons if b.kind == ButtonKind.VARY_REGION)
    mask = Image.new("L", (64, 64), 0)
    outcome = await service.press(single, region, mask=png_data_uri(mask))
    assert (await service.wait(outcome.task.id, timeout=30)).status == Status.SUCCESS


async def test_blend_and_describe(service, kind):
    images = [png_data_uri(Image.new("RGB", (64, 64), colour)) for colour in ("red", "blue", "green")]
    blend = await service.wait((await service.blend(images, dimensions="LANDSCAPE")).id, timeout=30)
    assert blend.status == Status.SUCCESS and blend.action == "BLEND" and blend.is_grid
    with pytest.raises(InvalidRequest, match="2 to 5"):
        await service.blend(images[:1])

    described = await service.wait((await service.describe(images[0])).id, timeout=30)
    assert described.status == Status.SUCCESS and described.action == "DESCRIBE"
    text = described.final_prompt if kind == ProviderKind.MJPROXY else described.prompt
    assert all(marker in text for marker in ("1️⃣", "2️⃣", "3️⃣", "4️⃣"))


async def test_proxy_only_endpoints(make_service):
    proxy = make_service(ProviderKind.MJPROXY)
    shortened = await proxy.wait((await proxy.shorten("a very very long prompt about cats and dogs")).id, timeout=30)
    assert shortened.status == Status.SUCCESS and "Shortened prompts" in shortened.final_prompt
    urls = await proxy.provider.upload_images([png_data_uri(Image.new("RGB", (8, 8), "white"))])
    assert len(urls) == 1 and urls[0].startswith("http")
    done = await proxy.wait((await proxy.imagine("seeded owl")).id, timeout=30)
    seed = await proxy.provider.image_seed(done.id)
    assert seed.isdigit()

    ohmygpt = make_service(ProviderKind.OHMYGPT)
    with pytest.raises(Unsupported):
        await ohmygpt.shorten("x")


async def test_balance(make_service, special_keys):
    service = make_service(ProviderKind.OHMYGPT)
    before = await service.balance()
    assert before is not None and float(before.balance) > 0
    done = await service.wait((await service.imagine("priced tiger", mode=Mode.FAST)).id, timeout=30)
    after = await service.balance()
    assert float(before.balance) - float(after.balance) == pytest.approx(14000)
    assert service.session_spend == 14000 and done.status == Status.SUCCESS
    # a reroll is billed as an imagine; the running spend follows the server's charge
    reroll = (await service.press(done, button(done, "🔄"))).task
    assert (await service.wait(reroll.id, timeout=30)).action == "REROLL"
    charged = float(after.balance) - float((await service.balance()).balance)
    assert charged == pytest.approx(14000) and service.session_spend == 14000 + charged
    # an ordinary key cannot read the balance: hidden, not an error
    assert await make_service(ProviderKind.OHMYGPT, key=special_keys["not_admin"]).balance() is None
    assert await make_service(ProviderKind.MJPROXY).balance() is None


async def test_concurrent_waits(service):
    tasks = [await service.imagine(f"parallel {i}") for i in range(3)]
    done = await asyncio.gather(*(service.wait(t.id, timeout=30) for t in tasks))
    assert all(t.status == Status.SUCCESS for t in done)
