"""The seed documents' example payloads parse into the right Task (both dialects)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mj_tui.core.config import default_profile
from mj_tui.core.credentials import Secret
from mj_tui.core.models import ButtonKind, Mode, ProviderKind, Status, parse_progress
from mj_tui.core.providers import MjProxyProvider, OhMyGptProvider
from mj_tui.core.providers.base import parse_time

FIXTURES = Path(__file__).parent / "fixtures"


def load(name):
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@pytest.fixture
def ohmygpt():
    return OhMyGptProvider(default_profile("t", ProviderKind.OHMYGPT), Secret("sk-test"))


@pytest.fixture
def mjproxy():
    return MjProxyProvider(default_profile("t", ProviderKind.MJPROXY), Secret("sk-test"))


def test_ohmygpt_doc_task(ohmygpt):
    task = ohmygpt.parse_task(load("ohmygpt_query_mj_tasks_doc_example.json")["data"])
    assert task.id == "20"
    assert task.provider == ProviderKind.OHMYGPT
    assert task.status == Status.SUCCESS and task.progress == 100
    assert task.action == "IMAGINE"
    assert task.mode == Mode.RELAX  # taskType NORMAL is the relax pool
    assert task.prompt.startswith("chibi manga legend of vader")
    assert task.description.startswith("/imagine chibi")
    assert task.fail_reason is None
    assert task.submit_time == datetime(2023, 8, 31, 13, 59, 14, tzinfo=UTC)
    assert task.finish_time == datetime(2023, 8, 31, 13, 59, 50, tzinfo=UTC)
    # imageS3Url is null in the example, so the Discord URL is the only one
    assert task.image_urls == (task.raw["imageDcUrl"],)
    assert [b.display for b in task.buttons] == ["U1", "U2", "U3", "U4", "🔄", "V1", "V2", "V3", "V4"]
    assert task.buttons[1].index == 2 and task.buttons[1].kind == ButtonKind.UPSCALE
    assert task.buttons[4].kind == ButtonKind.REROLL
    assert task.is_grid


def test_ohmygpt_object_storage_url_comes_first(ohmygpt):
    data = dict(load("ohmygpt_query_mj_tasks_doc_example.json")["data"], imageS3Url="mj/abc.png")
    task = ohmygpt.parse_task(data)
    assert task.image_urls[0] == "https://pi.ohmygpt.com/api/v1/content/mj-generated/mj/abc.png"
    assert task.image_urls[1] == data["imageDcUrl"]


def test_mjproxy_doc_task(mjproxy):
    task = mjproxy.parse_task(load("mjproxy_fetch_example.json"))
    assert task.id == "1710761946823501"
    assert task.status == Status.SUCCESS and task.progress == 100
    assert task.final_prompt == "a sunny boy --relax --s 250 --style raw"
    assert task.mode == Mode.RELAX  # from the echoed --relax flag
    assert task.submit_time == datetime.fromtimestamp(1710761946.823, tz=UTC)
    assert task.image_url == "https://www.doublegpt.io/mj/image/1710761946823501"
    assert len(task.buttons) == 9
    assert task.fail_reason is None  # "" means no failure


def test_tolerant_parsing(mjproxy, ohmygpt):
    # numeric ids, gateway's empty status, unknown fields, nulls everywhere
    task = mjproxy.parse_task(
        {
            "id": 1710761946823501,
            "status": "",
            "progress": None,
            "buttons": None,
            "properties": None,
            "brandNewField": {"x": 1},
            "submitTime": 0,
        }
    )
    assert task.id == "1710761946823501"
    assert task.status == Status.SUBMITTED
    assert task.progress == 0 and task.buttons == () and task.submit_time is None
    assert task.raw["brandNewField"] == {"x": 1}
    odd = ohmygpt.parse_task(
        {"taskId": 7, "status": "WEIRD_NEW_STATE", "progress": "37%", "actions": [{"label": "Web"}]}
    )
    assert odd.status == Status.UNKNOWN and odd.status.in_flight and odd.progress == 37
    assert odd.buttons == ()  # a link button without customId cannot be pressed
    failed = ohmygpt.parse_task({"taskId": 8, "status": "IN_PROGRESS", "failReason": "Banned prompt detected"})
    assert failed.status == Status.FAILURE


@pytest.mark.parametrize(
    "value,expected", [("42%", 42), ("100%", 100), ("", 0), (None, 0), (55, 55), ("150%", 100), ("x", 0)]
)
def test_progress(value, expected):
    assert parse_progress(value) == expected


def test_times():
    assert parse_time("2023-08-31T13:59:14.000Z").tzinfo is not None
    assert parse_time(1710761946823).year == 2024
    assert parse_time("1710761946823").year == 2024
    assert parse_time(None) is None and parse_time("garbage") is None and parse_time(0) is None


def test_provider_repr_hides_key(ohmygpt, mjproxy):
    for provider in (ohmygpt, mjproxy):
        assert "sk-test" not in repr(provider) and "sk-test" not in repr(provider.http)


def test_bulk_query_doc_example_over_http(tmp_path):
    """The query-mj-tasks doc example puts ONE task in `data`; a real server sends it verbatim."""
    import asyncio
    import threading
    from dataclasses import replace
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    body = (FIXTURES / "ohmygpt_query_mj_tasks_doc_example.json").read_bytes()
    seen = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            seen["path"] = self.path
            seen["auth"] = self.headers.get("Authorization")
            seen["body"] = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        profile = replace(default_profile("t", ProviderKind.OHMYGPT), base_url=f"http://127.0.0.1:{server.server_port}")
        provider = OhMyGptProvider(profile, Secret("sk-test"))

        async def go():
            try:
                return await provider.list_page(1, 12)
            finally:
                await provider.aclose()

        page = asyncio.run(go())
    finally:
        server.shutdown()
    assert seen["path"] == "/api/v1/ai/draw/mj/query-mj-tasks?page=1&pageSize=12"
    assert seen["auth"] == "Bearer sk-test" and json.loads(seen["body"]) == {"model": "midjourney"}
    assert page.total == 1 and [t.id for t in page.tasks] == ["20"]
    assert page.tasks[0].status == Status.SUCCESS
