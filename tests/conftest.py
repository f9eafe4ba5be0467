"""Suite-wide checks: no test may leak an asyncio task."""

from __future__ import annotations

import asyncio
import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

_LEAK_GRACE_S = 2.0


@pytest.fixture(autouse=True)
async def _no_leaked_asyncio_tasks():
    """Fail any test that leaves asyncio tasks running after it returns.

    A grace period lets tasks that are already being cancelled finish; what is
    still pending after it is a leak (a task without an owner).
    """
    before = set(asyncio.all_tasks())
    yield
    me = asyncio.current_task()
    deadline = asyncio.get_running_loop().time() + _LEAK_GRACE_S
    while True:
        leaked = [t for t in asyncio.all_tasks() - before if t is not me and not t.done()]
        if not leaked or asyncio.get_running_loop().time() > deadline:
            break
        await asyncio.sleep(0.05)
    if leaked:
        for t in leaked:
            t.cancel()
        pytest.fail(f"test leaked {len(leaked)} asyncio task(s): {[t.get_name() for t in leaked]}")
