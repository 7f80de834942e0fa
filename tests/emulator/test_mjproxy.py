"""Dialect b: midjourney-proxy behind a new-api gateway (/mj/*) over a real socket."""

from __future__ import annotations

import re

import httpx
from emu_helpers import (
    SINGLE_IMAGE_LABELS,
    button,
    client_for,
    data_url,
    mask_url,
    mj_fetch,
    mj_imagine,
    mj_press,
    mj_submit,
    png_bytes,
    png_url,
)
from seed_examples import GRID_LABELS, PROXY_TASK

from mj_tui.emulator import Account

EXTRA_FIELDS = {"parentId", "mode", "seed"}


def labels(task: dict) -> list[str]:
    return [b["label"] or b["emoji"] for b in task["buttons"]]


def test_imagine_and_fetch_match_seed_003(client: httpx.Client) -> None:
    res = mj_submit(client, "imagine", prompt="a sunny boy", state="local-42")
    assert res.keys() == {"code", "description", "result", "properties"}
    assert res["code"] == 1 and res["description"] == "提交成功"
    assert re.fullmatch(r"\d{16}", res["result"])  # <ms epoch><3 digits>
    task = mj_fetch(client, res["result"])
    assert task.keys() == PROXY_TASK.keys() | EXTRA_FIELDS
    assert task["properties"].keys() == PROXY_TASK["properties"].keys()
    assert all(b.keys() == PROXY_TASK["buttons"][0].keys() for b in task["buttons"])
    assert all(b["type"] == 2 and b["style"] == 2 for b in task["buttons"])  # as in the seed, U1-U4 included
    assert labels(task) == GRID_LABELS
    assert (task["id"], task["action"]) == (res["result"], "IMAGINE")
    assert (task["status"], task["progress"]) == ("SUCCESS", "100%")
    assert task["customId"] == task["botType"] == task["maskBase64"] == task["failReason"] == ""
    assert task["description"] == "submit_success" and task["state"] == "local-42"
    assert task["prompt"] == task["promptEn"] == task["properties"]["finalPrompt"] == "a sunny boy"
    assert all(isinstance(task[f], int) for f in ("submitTime", "startTime", "finishTime"))
    assert task["submitTime"] <= task["startTime"] <= task["finishTime"]
    assert task["submitTime"] == int(task["id"][:13])
    assert task["parentId"] is None and task["mode"] == "FAST"
    image = client.get(task["imageUrl"])
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"


def test_mode_prefixes_set_the_task_mode(client: httpx.Client) -> None:
    relax = mj_imagine(client, "a sunny boy", prefix="/mj-relax")
    assert relax["mode"] == "RELAX" and relax["promptEn"] == "a sunny boy --relax"  # seed 003
    assert relax["prompt"] == "a sunny boy"
    assert mj_imagine(client, "fast one", prefix="/mj-fast")["mode"] == "FAST"
    assert mj_imagine(client, "turbo one", prefix="/mj-turbo")["mode"] == "TURBO"
    assert mj_imagine(client, "no prefix")["mode"] == "FAST"
    flagged = mj_imagine(client, "slow please --relax")
    assert flagged["mode"] == "RELAX" and flagged["promptEn"] == "slow please --relax"
    # Task routes work under every prefix.
    assert client.get(f"/mj-turbo/mj/task/{relax['id']}/fetch").json()["id"] == relax["id"]


def test_auth_headers_and_failures(make_emu) -> None:
    url = make_emu(open_access=False, accounts={"sk-good": Account(), "sk-nomj": Account(mj_permission=False)})
    body = {"prompt": "a cat"}
    for headers in (
        {"Authorization": "Bearer sk-good"},
        {"Authorization": "sk-good"},
        {"mj-api-secret": "sk-good"},
        {"Authorization": "midjourney-proxy", "mj-api-secret": "sk-good"},
    ):
        r = httpx.post(f"{url}/mj/submit/imagine", json=body, headers=headers)
        assert r.status_code == 200 and r.json()["code"] == 1, headers
    for headers in (
        {},
        {"Authorization": "Bearer sk-bad"},
        {"mj-api-secret": "sk-bad"},
        {"Authorization": "Bearer sk-nomj"},
    ):
        r = httpx.post(f"{url}/mj/submit/imagine", json=body, headers=headers)
        assert r.status_code == 401, headers
        err = r.json()["error"]
        assert err["type"] == "new_api_error" and err["code"] == "" and err["message"]
    r = httpx.get(f"{url}/mj/task/1/fetch")
    assert r.status_code == 401


def test_fetch_unknown_or_foreign_task(client: httpx.Client, emu: str) -> None:
    r = client.get("/mj/task/1234567890123456/fetch")
    assert r.status_code == 400
    assert r.json() == {"description": "task_no_found ", "type": "upstream_error", "code": 4}
    mine = mj_imagine(client, "private")
    with client_for(emu, "sk-intruder") as other:
        assert other.get(f"/mj/task/{mine['id']}/fetch").status_code == 400
        r = other.post("/mj/submit/action", json={"taskId": mine["id"], "customId": mine["buttons"][0]["customId"]})
        assert r.status_code == 404 and r.json()["code"] == 3


def test_list_by_condition_returns_own_tasks_and_omits_missing(client: httpx.Client, emu: str) -> None:
    a, b = mj_imagine(client, "first"), mj_imagine(client, "second")
    with client_for(emu, "sk-other") as other:
        foreign = mj_imagine(other, "not yours")
    r = client.post("/mj/task/list-by-condition", json={"ids": [b["id"], "0000000000000000", foreign["id"], a["id"]]})
    assert r.status_code == 200
    assert [t["id"] for t in r.json()] == [b["id"], a["id"]]
    assert r.json()[0].keys() == PROXY_TASK.keys() | EXTRA_FIELDS
    assert client.post("/mj/task/list-by-condition", json={"ids": []}).json() == []
    bad = client.post("/mj/task/list-by-condition", json={"ids": "nope"})
    assert bad.status_code == 400 and bad.json()["type"] == "upstream_error"


def test_image_seed(client: httpx.Client) -> None:
    task = mj_imagine(client, "seeded")
    r = client.get(f"/mj/task/{task['id']}/image-seed")
    assert r.status_code == 200
    body = r.json()
    assert body["code"] == 1 and body["description"] == "成功" and re.fullmatch(r"\d+", body["result"])
    assert client.get(f"/mj/task/{task['id']}/image-seed").json()["result"] == body["result"]
    missing = client.get("/mj/task/1111111111111111/image-seed")
    assert missing.status_code == 404 and missing.json()["code"] == 3
    assert mj_fetch(client, task["id"])["seed"] == body["result"]  # the task shows it from now on


def test_action_buttons_and_parent_links(client: httpx.Client) -> None:
    grid = mj_imagine(client, "a glass greenhouse")
    res = mj_press(client, grid, "U2")
    assert res["code"] == 1
    single = mj_fetch(client, res["result"])
    assert single["action"] == "UPSCALE" and single["parentId"] == grid["id"]
    assert labels(single) == [*SINGLE_IMAGE_LABELS, "Animate (High motion)", "Animate (Low motion)"]
    hd = mj_fetch(client, mj_press(client, single, "Upscale (Subtle)")["result"])
    assert hd["action"] == "UPSCALE" and labels(hd) == labels(single)[2:]
    for label, action in {"V4": "VARIATION", "🔄": "REROLL"}.items():
        child = mj_fetch(client, mj_press(client, grid, label)["result"])
        assert child["action"] == action and child["parentId"] == grid["id"] and labels(child) == GRID_LABELS
    for label, action in {"Zoom Out 2x": "ZOOM", "⬇️": "PAN", "Vary (Strong)": "VARIATION"}.items():
        assert mj_fetch(client, mj_press(client, single, label)["result"])["action"] == action


def test_action_errors(client: httpx.Client) -> None:
    grid = mj_imagine(client, "errors")
    other = mj_imagine(client, "other")
    cid = grid["buttons"][0]["customId"]
    r = client.post("/mj/submit/action", json={"taskId": "9999999999999999", "customId": cid})
    assert r.status_code == 404 and r.json()["code"] == 3 and r.json()["description"] == "关联任务不存在或已失效"
    res = mj_submit(client, "action", taskId=grid["id"], customId=other["buttons"][0]["customId"])
    assert res["code"] == 4 and res["description"].startswith("unknown_action:")
    assert mj_submit(client, "action", taskId=grid["id"])["code"] == 4
    assert mj_submit(client, "action", customId="MJ::JOB::upsample::1::x")["code"] == 4
    bad_json = client.post("/mj/submit/action", content=b"{", headers={"content-type": "application/json"})
    assert bad_json.status_code == 400 and bad_json.json()["type"] == "upstream_error"


def test_vary_region_goes_through_the_modal(client: httpx.Client) -> None:
    grid = mj_imagine(client, "a mountain shrine")
    single = mj_fetch(client, mj_press(client, grid, "U1")["result"])
    res = mj_press(client, single, "Vary (Region)")
    assert res["code"] == 21 and res["properties"]["finalPrompt"] == "a mountain shrine"
    modal_id = res["result"]
    waiting = mj_fetch(client, modal_id)
    assert waiting["status"] == "MODAL" and waiting["buttons"] == [] and waiting["imageUrl"] is None
    assert mj_submit(client, "modal", taskId=modal_id, prompt="a red door")["code"] == 4  # mask missing
    assert mj_submit(client, "modal", taskId=modal_id, maskBase64="data:image/png;base64,bm9wZQ==")["code"] == 4
    done = mj_submit(client, "modal", taskId=modal_id, prompt="a red door", maskBase64=mask_url())
    assert done["code"] == 1 and done["result"] == modal_id
    task = mj_fetch(client, modal_id)
    assert task["status"] == "SUCCESS" and task["action"] == "VARIATION" and task["parentId"] == single["id"]
    assert task["prompt"] == "a red door" and labels(task) == GRID_LABELS
    # The task no longer waits for a dialog; unknown tasks are 404 / code 3.
    assert mj_submit(client, "modal", taskId=modal_id, prompt="again")["code"] == 4
    r = client.post("/mj/submit/modal", json={"taskId": "4242424242424242", "prompt": "x"})
    assert r.status_code == 404 and r.json()["code"] == 3


def test_custom_zoom_needs_a_zoom_value_between_1_and_2(client: httpx.Client) -> None:
    grid = mj_imagine(client, "a desert city")
    single = mj_fetch(client, mj_press(client, grid, "U4")["result"])
    res = mj_press(client, single, "Custom Zoom")
    assert res["code"] == 21 and res["properties"]["finalPrompt"] == "a desert city --zoom 2"
    for prompt in ("a desert city", "a desert city --zoom 3", "a desert city --zoom 0.5"):
        assert mj_submit(client, "modal", taskId=res["result"], prompt=prompt)["code"] == 4, prompt
    assert mj_submit(client, "modal", taskId=res["result"], prompt="a desert city --zoom 1.5")["code"] == 1
    task = mj_fetch(client, res["result"])
    assert task["action"] == "ZOOM" and task["status"] == "SUCCESS"
    assert task["properties"]["finalPrompt"] == "a desert city --zoom 1.5"


def test_remix_mode_sends_variations_through_the_modal(make_emu, key: str) -> None:
    with client_for(make_emu(remix=True), key) as c:
        grid = mj_imagine(c, "a vintage robot")
        assert mj_press(c, grid, "U1")["code"] == 1  # upscales never need a dialog
        for label in ("V2", "🔄"):
            res = mj_press(c, grid, label)
            assert res["code"] == 21 and res["properties"]["finalPrompt"] == "a vintage robot"
        single = mj_fetch(c, mj_press(c, grid, "U3")["result"])
        res = mj_press(c, single, "⬅️")
        assert res["code"] == 21 and mj_fetch(c, res["result"])["status"] == "MODAL"
        assert mj_submit(c, "modal", taskId=res["result"], prompt="a vintage robot, wide shot")["code"] == 1
        pan = mj_fetch(c, res["result"])
        assert pan["action"] == "PAN" and pan["prompt"] == "a vintage robot, wide shot"
        # Changed at run time through the control route.
        c.post("/_emulator/config", json={"remix": False})
        assert mj_press(c, grid, "V1")["code"] == 1


def test_banned_and_moderated_prompts(client: httpx.Client) -> None:
    res = mj_submit(client, "imagine", prefix="/mj-relax", prompt="a bloodbath")
    assert res["code"] == 24 and res["description"] == "可能包含敏感词" and res["result"] is None
    assert res["properties"]["bannedWord"] == "bloodbath"
    assert res["properties"]["promptEn"] == "a bloodbath --relax"
    failed = mj_imagine(client, "the forbidden city")
    assert failed["status"] == "FAILURE" and failed["progress"] == ""
    assert failed["failReason"].startswith("[Banned prompt detected]") and failed["buttons"] == []
    assert failed["imageUrl"] is None and failed["finishTime"] is not None


def test_blend(client: httpx.Client) -> None:
    one = [png_url((255, 0, 0))]
    res = mj_submit(client, "blend", base64Array=one)
    assert res["code"] == 4 and res["description"] == "图片参数错误，2~5张图片"
    assert mj_submit(client, "blend", base64Array=one * 6)["code"] == 4
    assert mj_submit(client, "blend", base64Array=one * 2, dimensions="ROUND")["code"] == 4
    assert mj_submit(client, "blend", base64Array=[one[0], "data:image/png;base64,!!"])["code"] == 4
    res = mj_submit(client, "blend", base64Array=[png_url((255, 0, 0)), png_url((0, 0, 255))], dimensions="PORTRAIT")
    task = mj_fetch(client, res["result"])
    assert task["action"] == "BLEND" and task["status"] == "SUCCESS" and labels(task) == GRID_LABELS


def test_describe_then_picreader_modal(client: httpx.Client) -> None:
    raw = png_bytes((20, 160, 60), (64, 64))
    res = mj_submit(client, "describe", base64=data_url(raw))
    task = mj_fetch(client, res["result"])
    assert task["action"] == "DESCRIBE" and task["status"] == "SUCCESS"
    text = task["properties"]["finalPrompt"]
    assert re.fullmatch(r"1️⃣ .+\n\n2️⃣ .+\n\n3️⃣ .+\n\n4️⃣ .+", text)
    assert client.get(task["imageUrl"]).content == raw  # describe shows the uploaded image
    assert labels(task) == ["1️⃣", "2️⃣", "3️⃣", "4️⃣", "🔄"]
    assert [b["customId"] for b in task["buttons"]][-1] == "MJ::Picread::Retry"
    pick = mj_submit(client, "action", taskId=task["id"], customId="MJ::Job::PicReader::3")
    third = text.split("\n\n")[2].split(" ", 1)[1]
    assert pick["code"] == 21 and pick["properties"]["finalPrompt"] == third
    assert mj_submit(client, "modal", taskId=pick["result"])["code"] == 1  # empty prompt = the suggestion
    imagined = mj_fetch(client, pick["result"])
    assert imagined["action"] == "IMAGINE" and imagined["prompt"] == third and labels(imagined) == GRID_LABELS
    retry = mj_fetch(client, mj_press(client, task, "MJ::Picread::Retry")["result"])
    assert retry["action"] == "DESCRIBE" and retry["properties"]["finalPrompt"] != text
    assert mj_submit(client, "describe", base64="")["code"] == 4
    assert mj_submit(client, "describe", base64="data:image/png;base64,AAAA")["code"] == 4


def test_shorten(client: httpx.Client) -> None:
    res = mj_submit(client, "shorten", prompt="a very detailed portrait of an old fisherman, dramatic lighting")
    task = mj_fetch(client, res["result"])
    report = task["properties"]["finalPrompt"]
    assert task["action"] == "SHORTEN" and "## Important tokens" in report and "## Shortened prompts" in report
    assert all(e in report for e in ("1️⃣", "2️⃣", "3️⃣", "4️⃣", "5️⃣"))
    assert labels(task) == ["1️⃣", "2️⃣", "3️⃣", "4️⃣", "5️⃣"]
    assert all("PromptAnalyzer" in b["customId"] for b in task["buttons"])
    pick = mj_press(client, task, "5️⃣")
    assert pick["code"] == 21 and pick["properties"]["finalPrompt"]
    assert mj_submit(client, "shorten", prompt="")["code"] == 4


def test_upload_discord_images(client: httpx.Client) -> None:
    raws = [png_bytes((1, 2, 3)), png_bytes((200, 100, 50))]
    res = mj_submit(client, "upload-discord-images", base64Array=[data_url(r) for r in raws])
    assert res["code"] == 1 and len(res["result"]) == 2
    assert [httpx.get(u).content for u in res["result"]] == raws
    assert all(re.search(r"/attachments/\d+/\d+/", u) for u in res["result"])
    assert mj_submit(client, "upload-discord-images", base64Array=[])["code"] == 4
    # Reference images of an imagine are uploaded the same way and lead the prompt.
    res = mj_submit(client, "imagine", prompt="in this style", base64Array=[data_url(raws[0])])
    task = mj_fetch(client, res["result"])
    assert task["promptEn"].startswith("http") and task["promptEn"].endswith(" in this style")


def test_queue_codes_22_and_23(make_emu, key: str) -> None:
    url = make_emu(job_seconds=60, proxy_concurrency=2, proxy_queue_size=2)
    with client_for(url, key) as c:
        c.post("/_emulator/clock", json={"freeze": True})
        codes = [mj_submit(c, "imagine", prompt=f"job {i}") for i in range(5)]
        assert [r["code"] for r in codes] == [1, 1, 22, 22, 23]
        assert codes[2]["description"] == "排队中，前面还有0个任务" and codes[2]["properties"]["numberOfQueues"] == 0
        assert codes[3]["properties"]["numberOfQueues"] == 1
        assert codes[4]["description"] == "队列已满，请稍后尝试" and codes[4]["result"] is None
        c.post("/_emulator/clock", json={"advance": 30})
        assert mj_fetch(c, codes[0]["result"])["status"] == "IN_PROGRESS"
        assert mj_fetch(c, codes[2]["result"])["status"] == "NOT_START"  # waiting for a worker
        c.post("/_emulator/clock", json={"advance": 40})  # first two done, queued ones running
        assert mj_fetch(c, codes[0]["result"])["status"] == "SUCCESS"
        queued = mj_fetch(c, codes[2]["result"])
        assert queued["status"] == "IN_PROGRESS"
        assert queued["startTime"] >= mj_fetch(c, codes[0]["result"])["finishTime"]


def test_quota_not_enough(client: httpx.Client, key: str) -> None:
    client.post("/_emulator/accounts", json={"key": key, "balance": 10000})
    r = client.post("/mj/submit/imagine", json={"prompt": "too expensive"})
    assert r.status_code == 400
    assert r.json() == {"description": "quota_not_enough ", "type": "upstream_error", "code": 4}
    assert mj_submit(client, "imagine", "/mj-relax", prompt="cheaper")["code"] == 1  # RELAX costs less


def test_parent_must_be_successful(make_emu, key: str) -> None:
    with client_for(make_emu(job_seconds=10), key) as c:
        c.post("/_emulator/clock", json={"freeze": True})
        res = mj_submit(c, "imagine", prompt="not yet")
        c.post("/_emulator/clock", json={"advance": 5})
        running = mj_fetch(c, res["result"])
        assert running["status"] == "IN_PROGRESS" and running["buttons"] == []
        assert c.get(f"/mj/task/{res['result']}/image-seed").json()["code"] == 4
        c.post("/_emulator/clock", json={"advance": 5})
        grid = mj_fetch(c, res["result"])
        cid = button(grid["buttons"], "U1")
        assert mj_submit(c, "action", taskId=grid["id"], customId=cid)["code"] == 1
        # An unfinished task refuses button presses: its state is checked before the customId.
        fresh = mj_submit(c, "imagine", prompt="still rendering")["result"]
        res = mj_submit(c, "action", taskId=fresh, customId=cid)
        assert res["code"] == 4 and res["description"] == "关联任务状态错误"
