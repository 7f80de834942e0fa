"""API keys for tests: one fresh account per test, so queues, ledgers and task lists never
leak between tests sharing an emulator (the emulator makes an account for any new key)."""

from __future__ import annotations

import uuid


def fresh_key() -> str:
    return f"sk-test-{uuid.uuid4().hex[:12]}"
