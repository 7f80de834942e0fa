"""midjourney-proxy's newer endpoints on the emulator, pinned from the reference with raw
httpx (no mj_tui.core): video and its buttons, edits, retexture, uploads, seeds, button
sets per model version, codes 21/22, the logic-error body."""

from __future__ import annotations

import io

import httpx
import pytest
from emu_helpers import SINGLE_IMAGE_LABELS, client_for, mj_fetch, mj_imagine, mj_press, mj_submit, png_url
from PIL import Image

ANIMATE = ["Animate (High motion)", "Animate (Low motion)"]


def labels_of(task: dict) -> list[str]:
    return [b["label"] or b["emoji"] for b in task["buttons"]]


def upscale(c: httpx.Client, prompt: str, n: str = "U1") -> dict:
    return mj_fetch(c, mj_press(c, mj_imagine(c, prompt), n)["result"])


def post(c: httpx.Client, verb: str, **fields: object) -> httpx.Response:
    return c.post(f"/mj/submit/{verb}", json=fields)


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("", [*SINGLE_IMAGE_LABELS, *ANIMATE]),  # the emulator's Midjourney is V7
        (" --v 6.1", [*SINGLE_IMAGE_LABELS, *ANIMATE]),
        (" --v 5.2", ["Upscale (2x)", "Upscale (4x)", *SINGLE_IMAGE_LABELS[2:], *ANIMATE]),
        (" --v 8", ["Vary (Subtle)", "Vary (Strong)", "Vary (Region)", *ANIMATE]),
        (" --v 8.1", ["Vary (Subtle)", "Vary (Strong)", "Vary (Region)", *ANIMATE]),
        (" --v 4", ["Vary (Subtle)", "Vary (Strong)", *ANIMATE]),
    ],
)
def test_buttons_under_an_upscale_follow_the_model_version(client, version, expected):
    single = upscale(client, "a tram" + version)
    assert labels_of(single) == expected
    ids = [b["customId"] for b in single["buttons"]]
    if version == " --v 6.1":
        assert any("upsample_v6r1_2x_subtle" in i for i in ids)
    if "8" in version:  # V8 has no HD upscale, zoom or pan: pressing one is refused
        fake = ids[0].replace("low_variation", "upsample_v8_2x_subtle")
        assert post(client, "action", taskId=single["id"], customId=fake).json()["code"] == 4


def test_animate_video_u_and_extend(client):
    single = upscale(client, "a koi pond")
    res = mj_press(client, single, "Animate (High motion)")
    assert res["code"] == 1
    video = mj_fetch(client, res["result"])
    assert video["action"] == "VIDEO" and video["status"] == "SUCCESS" and video["parentId"] == single["id"]
    assert "--video 1 --motion high" in video["prompt"]
    assert len(video["videoUrls"]) == 4 and video["videoUrl"] == video["videoUrls"][0]["url"]
    assert labels_of(video) == ["U1", "U2", "U3", "U4", "🔄"]
    clip = client.get(video["videoUrls"][3]["url"])
    assert clip.status_code == 200 and clip.headers["content-type"] in ("video/mp4", "image/gif")
    assert clip.content[4:8] == b"ftyp" or clip.content[:6] == b"GIF89a"
    thumb = client.get(video["videoUrls"][3]["thumbnail"])
    assert Image.open(io.BytesIO(thumb.content)).format == "PNG"
    assert client.get(video["videoUrls"][0]["url"].replace("/0.", "/7.")).status_code == 404

    one = mj_fetch(client, mj_press(client, video, "U3")["result"])
    assert one["action"] == "UPSCALE" and len(one["videoUrls"]) == 1
    assert labels_of(one) == ["Extend (High motion)", "Extend (Low motion)"]
    longer = mj_fetch(client, mj_press(client, one, "Extend (Low motion)")["result"])
    assert longer["action"] == "VIDEO" and "--motion low" in longer["prompt"] and len(longer["videoUrls"]) == 4
    again = mj_fetch(client, mj_press(client, video, "🔄")["result"])
    assert again["action"] == "VIDEO" and len(again["videoUrls"]) == 4


def test_animate_waits_for_its_dialog_when_remix_is_on(make_emu, key):
    with client_for(make_emu(remix=True), key) as c:
        single = upscale(c, "a sleeping cat")
        res = mj_press(c, single, "Animate (Low motion)")
        assert res["code"] == 21 and res["description"] == "Waiting for window confirm"
        assert res["properties"] == {"finalPrompt": res["properties"]["finalPrompt"], "remix": True}
        assert mj_fetch(c, res["result"])["status"] == "MODAL"
        done = mj_submit(c, "modal", taskId=res["result"], prompt="the cat slowly blinks")
        assert done["code"] == 1
        assert mj_fetch(c, res["result"])["videoUrls"]


def test_video_endpoint_builds_the_prompt_as_the_proxy_does(client):
    source = upscale(client, "a red kite")
    res = mj_submit(
        client, "video", prompt="the kite dives", image=source["imageUrl"], motion="high", batchSize=2, loop=True
    )
    assert res["code"] == 1 and res["description"] == "提交成功"
    task = mj_fetch(client, res["result"])
    assert task["prompt"] == f"{source['imageUrl']} the kite dives --video 1 --end loop --motion high --bs 2"
    assert task["baseImageUrl"] == source["imageUrl"] and len(task["videoUrls"]) == 2
    inline = mj_fetch(client, mj_submit(client, "video", prompt="waves", image=png_url(), endImage=png_url())["result"])
    assert inline["baseImageUrl"].startswith("http") and "--end http" in inline["prompt"]
    assert len(inline["videoUrls"]) == 4  # batch 4 unless 1 or 2 is asked
    hd = mj_fetch(
        client, mj_submit(client, "video", prompt="p", image=png_url(), videoType="vid_1.1_i2v_720")["result"]
    )
    assert hd["videoType"] == "vid_1.1_i2v_720"
    extended = mj_submit(client, "video", prompt="on", action="extend", taskId=task["id"], index=1)
    assert extended["code"] == 1 and mj_fetch(client, extended["result"])["parentId"] == task["id"]


def test_video_validation_order_and_codes(make_emu, key):
    url = make_emu()
    with client_for(url, key) as c:
        assert post(c, "video", prompt="", image="!!").json()["description"] == "Prompt 不能为空"
        assert post(c, "video", prompt="p", image="not base64!").json()["description"] == "base64格式错误"
        assert post(c, "video", prompt="p", taskId="1", action="extend2").json()["description"] == "任务类型错误"
        missing = post(c, "video", prompt="p", taskId="1785123456789123", action="extend")
        assert missing.status_code == 404 and missing.json()["code"] == 3
        assert post(c, "video", prompt="p", action="Extend").json() == {
            "code": 3,
            "description": "目标任务不存在",
            "result": None,
            "properties": {},
        }
        grid = mj_imagine(c, "a fox")
        wrong = post(c, "video", prompt="p", taskId=grid["id"], action="extend").json()
        assert wrong["code"] == 4 and wrong["description"] == "关联任务状态错误"
        c.post("/_emulator/config", json={"hd_video": False})
        assert post(c, "video", prompt="p", image=png_url(), videoType="vid_1.1_i2v_720").json()["code"] == 3
        c.post("/_emulator/config", json={"proxy_daily_limit": 0})
        limit = post(c, "video", prompt="p", image=png_url()).json()
        assert limit["success"] is False and limit["code"] == -1 and limit["message"] == "用户今日绘图次数已达上限"
        assert mj_submit(c, "imagine", prompt="a fox")["code"] == 4  # imagine answers with a code of its own
        c.post("/_emulator/config", json={"video_enabled": False, "proxy_daily_limit": None})
        assert post(c, "video", prompt="p", image=png_url()).json()["description"] == "视频功能未启用"


def test_queued_video_says_how_many_are_ahead(make_emu, key):
    with client_for(make_emu(job_seconds=60, proxy_concurrency=1), key) as c:
        mj_submit(c, "imagine", prompt="first")
        res = mj_submit(c, "video", prompt="p", image=png_url())
        assert res["code"] == 22 and res["properties"]["numberOfQueues"] == 0
        assert res["description"] == "排队中，前面还有0个任务"


def test_edits_and_retexture(client):
    source = upscale(client, "a lighthouse")
    for verb, action in (("edits", "EDIT"), ("edit", "EDIT"), ("retexture", "RETEXTURE")):
        res = mj_submit(client, verb, prompt="at night", image=source["imageUrl"])
        task = mj_fetch(client, res["result"])
        assert task["action"] == action and task["status"] == "SUCCESS" and len(task["buttons"]) == 9
    assert task["prompt"] == f"at night --dref {source['imageUrl']}"
    assert mj_submit(client, "edits", prompt="", image=png_url())["description"] == "image或prompt不能为空"
    assert mj_submit(client, "edits", prompt="x", image="%%%")["description"] == "base64格式错误"


def test_uploads_can_be_forbidden(make_emu, key):
    with client_for(make_emu(proxy_uploads=False), key) as c:
        assert mj_submit(c, "upload-discord-images", base64Array=[png_url()])["description"] == "禁止上传"
        assert mj_submit(c, "edits", prompt="x", image="https://e.com/a.png")["description"] == "禁止上传"
        assert mj_submit(c, "video", prompt="x", image=png_url())["description"] == "base64格式错误"
    with client_for(make_emu(), key) as c:
        assert mj_submit(c, "upload-discord-images", base64Array=[])["description"] == "base64 参数错误"


def test_seed_of_a_video(client):
    video = mj_fetch(client, mj_submit(client, "video", prompt="p", image=png_url())["result"])
    seed = client.get(f"/mj/task/{video['id']}/image-seed").json()
    assert seed["code"] == 1 and seed["result"].isdigit()
    assert mj_fetch(client, video["id"])["seed"] == seed["result"]
