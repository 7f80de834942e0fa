"""Configuration of the emulator: tuning knobs and the accounts it knows."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Account:
    """One API key's account. Both dialects share it, so they share the ledger."""

    balance: float = 1_000_000  # OhMyGPT tokens
    mj_permission: bool = True  # OhMyGPT keys need the "midjourney" permission ticked
    admin: bool = True  # only admin keys may read /api/v1/user/admin/balance
    queue_limit: int | None = None  # overrides EmulatorConfig.queue_limit (VIP tiers)


@dataclass
class EmulatorConfig:
    """Tuning of the simulated Midjourney. Defaults suit the test suite."""

    job_seconds: float = 0.0  # wall-clock duration of one job; 0 = done on the next read
    grid_size: int = 1024  # long side of a grid image in px
    queue_limit: int = 3  # OhMyGPT: unfinished tasks per key (seed 004: regular users)
    proxy_concurrency: int = 3  # midjourney-proxy core-size (per key here)
    proxy_queue_size: int = 10  # midjourney-proxy queue-size (per key here)
    accounts: dict[str, Account] = field(default_factory=dict)
    open_access: bool = True  # any non-empty unknown key gets a fresh default Account
    remix: bool = False  # proxy: V/reroll/pan/vary answer code 21 (modal) like Remix mode
    # proxy: every key is one of the proxy's administrators, who alone may cancel a task;
    # False: keys are ordinary users and cancel answers 400 "演示模式，禁止操作" (demo mode)
    proxy_admin: bool = True
    video_enabled: bool = True  # proxy: /mj/submit/video and the Animate buttons work at all
    hd_video: bool = True  # proxy: an account can make HD (720p) videos
    proxy_uploads: bool = True  # proxy: base64 images are taken (else "禁止上传", upload forbidden)
    proxy_daily_limit: int | None = None  # proxy: jobs a key may submit in all (a daily cap), None = no cap
    hook_attempts: int = 3  # tries per callback delivery (non-2xx or no connection: try again)
    hook_backoff: float = 0.2  # seconds before the second try, doubled before each later one
    hook_timeout: float = 3.0  # seconds one delivery attempt may take, answer included
    seed_history: int = 0  # finished tasks pre-populated per dialect for demo_key
    demo_key: str = "sk-demo"  # the account that receives the seeded history
    banned_words: list[str] = field(default_factory=lambda: ["gore", "bloodbath"])
    moderated_words: list[str] = field(default_factory=lambda: ["forbidden"])
    error_rate: float = 0.0  # random HTTP 5xx
    drop_rate: float = 0.0  # random connection drops
    malformed_rate: float = 0.0  # random truncated bodies
    latency_seconds: float = 0.0  # each API request is delayed by up to this much
    random_seed: int = 0
    start_time: float | None = None  # epoch seconds: start with the clock frozen there (deterministic runs)
