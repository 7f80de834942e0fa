"""What goes on the wire for video, extend, Animate's dialog, edits, uploads and seeds,
compared with the reference's example requests; and how today's and older servers'
answers are read (codes 21, 22, 24, the logic-error body, 404s, a server without the
endpoint). A scripted server of its own records each request."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from support.hostile import RELEASE, Hostile, answer, ok
from support.keys import fresh_key

from mj_tui.core.config import default_profile
from mj_tui.core.credentials import Secret
from mj_tui.core.errors import BannedPrompt, ImageError, QueueFull, QuotaReached, TaskNotFound, Unsupported
from mj_tui.core.models import ButtonKind, ProviderKind
from mj_tui.core.providers import make_provider

KEY = "sk-video-wire-secret"
TASK_ID = "1785123456789123"
#: a finished Discord video task, as the reference abridges one
FINISHED_VIDEO = {
    "id": TASK_ID,
    "action": "VIDEO",
    "status": "SUCCESS",
    "progress": "100%",
    "prompt": "https://example.com/cat.png the cat turns its head --video 1 --motion high --bs 2",
    "imageUrl": "https://cdn.discordapp.com/attachments/1/2/x.mp4",
    "jobId": "708fed1c-1358-41ce-8d3c-8ba20097b9b6",
    "videoUrl": "https://cdn.discordapp.com/attachments/1/2/x.mp4",
    "videoUrls": [
        {
            "url": "https://cdn.midjourney.com/video/708fed1c-1358-41ce-8d3c-8ba20097b9b6/0_0.mp4",
            "thumbnail": "https://cdn.midjourney.com/708fed1c-1358-41ce-8d3c-8ba20097b9b6/0_0_640_N.webp",
        },
        {
            "url": "https://cdn.midjourney.com/video/708fed1c-1358-41ce-8d3c-8ba20097b9b6/0_1.mp4",
            "thumbnail": "https://cdn.midjourney.com/708fed1c-1358-41ce-8d3c-8ba20097b9b6/0_1_640_N.webp",
        },
    ],
    "buttons": [
        {
            "customId": "MJ::JOB::video_virtual_upscale::1::708fed1c-1358-41ce-8d3c-8ba20097b9b6",
            "emoji": "",
            "label": "U1",
            "style": 2,
            "type": 2,
        }
    ],
    "version": "v 8.1",
    "mode": "FAST",
    "properties": {"finalPrompt": "...", "messageHash": "708fed1c-1358-41ce-8d3c-8ba20097b9b6"},
}


@pytest.fixture
def api():
    RELEASE.clear()
    server = Hostile()
    yield server
    RELEASE.set()
    server.close()


@pytest.fixture
async def proxy(api):
    profile = replace(default_profile("wire", ProviderKind.MJPROXY), base_url=api.origin, request_timeout=5.0)
    provider = make_provider(profile, Secret(KEY))
    provider.http.retry.base_delay = 0.01
    provider.http.retry.max_delay = 0.05
    yield provider
    await provider.aclose()


def accepted(result: str = TASK_ID, code: int = 1, description: str = "提交成功", **props: object):
    return ok({"code": code, "description": description, "result": result, "properties": props})


def body(api: Hostile, suffix: str) -> dict:
    (seen,) = [s for s in api.seen if s.path.endswith(suffix)]
    return json.loads(seen.body)


async def test_new_video_matches_the_reference_example(api, proxy):
    api.route("/submit/video", accepted())
    result = await proxy.video("https://example.com/cat.png", prompt="the cat turns its head", motion="high", batch=2)
    assert result.task_id == TASK_ID and not result.modal_required
    assert body(api, "/submit/video") == {
        "prompt": "the cat turns its head",
        "image": "https://example.com/cat.png",
        "motion": "high",
        "batchSize": 2,
    }
    assert api.seen[0].path == "/mj-fast/mj/submit/video"


async def test_extend_matches_the_reference_example(api, proxy):
    api.route("/submit/video", accepted())
    await proxy.video(None, prompt="the cat jumps", motion="low", extend=TASK_ID, index=2)
    assert body(api, "/submit/video") == {
        "prompt": "the cat jumps",
        "motion": "low",
        "action": "extend",
        "taskId": TASK_ID,
        "index": 1,  # the second video: the server counts from 0
    }


async def test_loop_hd_and_an_end_frame(api, proxy):
    api.route("/submit/video", accepted())
    await proxy.video("data:image/png;base64,AAAA", prompt="p", loop=True, end="https://e.com/x.png", hd=True)
    sent = body(api, "/submit/video")
    assert sent["loop"] is True and "endImage" not in sent  # loop wins, as on the server
    assert sent["videoType"] == "vid_1.1_i2v_720" and "batchSize" not in sent


async def test_animate_then_its_dialog_as_the_reference_shows(api, proxy):
    parent = proxy.parse_task({**FINISHED_VIDEO, "id": "1785120000000001", "action": "UPSCALE"})
    api.route(
        "/submit/action",
        ok(
            {
                "code": 21,
                "description": "Waiting for window confirm",
                "result": "1785120000000777",
                "properties": {"finalPrompt": "https://s.mj.run/xyz cat --v 7.0", "remix": True},
            }
        ),
    )
    api.route("/submit/modal", accepted("1785120000000777"))
    animate = "MJ::JOB::animate_high::1::a6b09718-e1f6-4f31-9a42-c6dd7d8f1c83::SOLO"
    result = await proxy.action(parent, animate)
    assert result.modal_required and result.final_prompt == "https://s.mj.run/xyz cat --v 7.0"
    assert body(api, "/submit/action") == {"taskId": "1785120000000001", "customId": animate}
    await proxy.modal(result.task_id, prompt="cat slowly blinks")
    assert body(api, "/submit/modal") == {"taskId": "1785120000000777", "prompt": "cat slowly blinks"}


async def test_animate_asks_for_its_dialog_when_given_a_prompt(api, proxy):
    parent = proxy.parse_task({**FINISHED_VIDEO, "id": "1785120000000001", "action": "UPSCALE"})
    api.route("/submit/action", accepted())
    await proxy.action(parent, "MJ::JOB::animate_low::1::a6b09718-e1f6-4f31-9a42-c6dd7d8f1c83::SOLO", remix=True)
    assert body(api, "/submit/action")["enableRemix"] is True


async def test_an_older_servers_21_means_the_task_exists(api, proxy):
    api.route("/submit/video", accepted("777", code=21, description="任务已存在"))
    result = await proxy.video("https://e.com/a.png", prompt="p")
    assert result.task_id == "777" and not result.modal_required


async def test_code_22_keeps_its_place_and_chinese_text(api, proxy):
    api.route("/submit/edits", accepted(code=22, description="排队中，前面还有1个任务", numberOfQueues=1))
    result = await proxy.edit("https://e.com/a.png", prompt="a hat")
    assert result.queued_ahead == 1 and result.description == "排队中，前面还有1个任务"
    assert body(api, "/submit/edits") == {"prompt": "a hat", "image": "https://e.com/a.png"}


async def test_retexture_goes_to_its_own_endpoint(api, proxy):
    api.route("/submit/retexture", accepted())
    await proxy.edit("https://e.com/a.png", prompt="glass", retexture=True)
    assert api.seen[0].path == "/mj-fast/mj/submit/retexture"


async def test_refusals_today_and_in_older_builds(api, proxy):
    api.route(
        "/submit/video",
        ok({"success": False, "code": -1, "message": f"队列数已达上限 {KEY}", "timestamp": "639000000000000000"}),
        ok({"success": False, "code": -1, "message": "用户今日绘图次数已达上限", "timestamp": "1"}),
        ok(
            {"code": 24, "description": "可能包含敏感词", "properties": {"promptEn": "nude body", "bannedWord": "nude"}}
        ),
        ok({"code": 23, "description": "队列已满，请稍后尝试"}),
    )
    with pytest.raises(QueueFull) as full:
        await proxy.video("https://e.com/a.png", prompt="p")
    assert KEY not in str(full.value) + repr(full.value) + (full.value.raw or "")
    with pytest.raises(QuotaReached, match="用户今日绘图次数已达上限"):
        await proxy.video("https://e.com/a.png", prompt="p")
    with pytest.raises(BannedPrompt) as banned:
        await proxy.video("https://e.com/a.png", prompt="p")
    assert banned.value.word == "nude"
    with pytest.raises(QueueFull):
        await proxy.video("https://e.com/a.png", prompt="p")


async def test_a_missing_parent_is_a_404(api, proxy):
    api.route(
        "/submit/video",
        answer(404, {"code": 3, "description": "关联任务不存在或已失效", "result": None, "properties": {}}),
    )
    with pytest.raises(TaskNotFound, match="关联任务不存在或已失效"):
        await proxy.video(None, prompt="p", extend=TASK_ID, index=1)


@pytest.mark.parametrize("status", [404, 405])
async def test_a_server_without_video_says_so(api, proxy, status):
    api.route("/submit/video", answer(status, "Not Found", "text/plain"))
    with pytest.raises(Unsupported, match=r"(?i)this server has no video"):
        await proxy.video("https://e.com/a.png", prompt="p")


async def test_a_finished_video_task_is_read_whole(proxy):
    task = proxy.parse_task(FINISHED_VIDEO)
    assert task.is_video and len(task.video_urls) == 2 and task.video_urls[0].endswith("0_0.mp4")
    assert task.video_thumbnails[1] is not None and task.video_thumbnails[1].endswith("0_1_640_N.webp")
    (u1,) = task.buttons
    assert u1.kind == ButtonKind.VIDEO_UPSCALE and u1.index == 1 and u1.display == "U1"
    assert task.raw["videoUrls"] == FINISHED_VIDEO["videoUrls"]  # the payload is kept beside it
    # its imageUrl is the clip itself: the picture shown is the first video's still
    assert task.image_url == FINISHED_VIDEO["videoUrls"][0]["thumbnail"]


def test_buttons_by_version_have_names_and_an_unknown_one_still_works():
    from mj_tui.core.models import Button

    h = "da2b1fda-0455-4952-9f0e-d4cb891f8b1e"
    labelled = {
        f"MJ::JOB::upsample_v6r1_2x_creative::1::{h}::SOLO": (ButtonKind.UPSCALE_HD, "Upscale (Creative)"),
        f"MJ::JOB::upsample_v5_2x::1::{h}::SOLO": (ButtonKind.UPSCALE_HD, "Upscale (2x)"),
        f"MJ::JOB::high_variation::1::{h}::SOLO": (ButtonKind.VARY_STRONG, "Vary (Strong)"),
        f"MJ::JOB::animate_low::1::{h}::SOLO": (ButtonKind.ANIMATE, "Animate (Low motion)"),
        f"MJ::JOB::animate_high_extend::4::{h}": (ButtonKind.EXTEND, "Extend (High motion)"),
        f"MJ::JOB::video_virtual_upscale::3::{h}": (ButtonKind.VIDEO_UPSCALE, "U3"),
    }
    for cid, (kind, label) in labelled.items():
        button = Button(cid)  # Discord sends some with an emoji only: the label is ours then
        assert (button.kind, button.display) == (kind, label)
    odd = Button("MJ::JOB::something_new::1::x", label="Something New", emoji="🆕")
    assert odd.kind == ButtonKind.OTHER and odd.display == "🆕 Something New"


async def test_seed_answers(api, proxy):
    api.route(
        "/image-seed",
        ok({"code": 1, "description": "成功", "result": "2960366558", "properties": {}}),
        answer(400, {"code": 4, "description": "关联任务状态错误", "result": None, "properties": {}}),
        answer(404, {"code": 3, "description": "关联任务不存在或已失效", "result": None, "properties": {}}),
        answer(405, "", "text/plain"),
    )
    assert await proxy.image_seed(TASK_ID) == "2960366558"
    assert api.seen[0].method == "GET" and api.seen[0].path == f"/mj-fast/mj/task/{TASK_ID}/image-seed"
    with pytest.raises(Exception, match="no seed yet"):
        await proxy.image_seed(TASK_ID)
    with pytest.raises(TaskNotFound):
        await proxy.image_seed(TASK_ID)
    with pytest.raises(Unsupported, match="seeds"):
        await proxy.image_seed(TASK_ID)


async def test_upload_body_and_its_failure_shape(api, proxy):
    api.route(
        "/upload-discord-images",
        ok({"code": 1, "description": "提交成功", "result": ["https://cdn.example.com/a.png"], "properties": {}}),
        ok({"code": 9, "description": "上传失败"}),
    )
    assert await proxy.upload_images(["data:image/png;base64,AAAA"]) == ["https://cdn.example.com/a.png"]
    assert body(api, "/upload-discord-images") == {"base64Array": ["data:image/png;base64,AAAA"]}
    with pytest.raises(Exception, match="上传失败"):
        await proxy.upload_images(["data:image/png;base64,AAAA"])


async def test_a_video_link_that_404s_says_so(api, make_service, tmp_path):
    from mj_tui.core.models import Status

    service = make_service(ProviderKind.MJPROXY, base_url=api.origin)
    api.route("/gone.mp4", answer(404, "Not Found", "text/plain"))
    task = service.provider.parse_task(
        {**FINISHED_VIDEO, "videoUrl": api.url("/gone.mp4"), "videoUrls": [{"url": api.url("/gone.mp4")}]}
    )
    assert task.status == Status.SUCCESS
    with pytest.raises(ImageError, match=r"(?i)video could not be downloaded.*refresh"):
        await service.save_video(task, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_the_key_stays_out_of_the_provider(proxy):
    assert KEY not in repr(proxy) and fresh_key() != KEY
