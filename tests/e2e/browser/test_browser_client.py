"""The browser client at ``/``, driven in Debian's real Chromium against a real server.

Chromium's fake capture device plays a WAV of a spoken sentence (looped) as
the microphone; the page must show what the user said, what the bot said, the
bot's audio arriving and a voice-to-voice figure, and it must say so clearly
when the server is at capacity or the microphone is blocked. Screenshots of
each case go to ``test-artifacts/browser/`` (gitignored).
"""

from __future__ import annotations

import asyncio
import json
import time
import wave
from pathlib import Path

import httpx
import pytest

from tests.e2e.caller import Caller
from tests.e2e.conftest import speech
from tests.e2e.serverproc import ServerProcess, start_server
from voxswitch.textmatch import word_overlap

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "browser"
SENTENCE = "The red kite flew over the quiet harbor this morning."
LEAD_SILENCE_S = 1.0
# Long enough for the bot to answer before the looped sentence comes round again.
TRAIL_SILENCE_S = 6.0
ANSWER_TIMEOUT_S = 120.0
REFUSAL_TIMEOUT_S = 30.0
LAPTOP = {"width": 1000, "height": 760}
PHONE = {"width": 390, "height": 844}


def chromium_args(fake_audio: Path, *, fake_permission_ui: bool = True) -> list[str]:
    args = [
        "--headless",
        "--no-sandbox",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={fake_audio}",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-gpu",
        "--disable-sync",
    ]
    if fake_permission_ui:  # without it, headless Chromium denies the microphone
        args.insert(2, "--use-fake-ui-for-media-stream")
    return args


@pytest.fixture(scope="module")
def chromium() -> Path:
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} not installed (scripts/ci-install-browser.sh installs it as root)"
        print(f"SKIP browser tests: {reason}")
        pytest.skip(reason)
    return CHROMIUM


@pytest.fixture(scope="module")
def spoken_wav(tmp_path_factory) -> Path:
    """The sentence as a 16 kHz mono WAV with silence around it (Chromium loops the file)."""
    pcm = (
        bytes(int(16000 * LEAD_SILENCE_S) * 2)
        + speech(SENTENCE)
        + bytes(int(16000 * TRAIL_SILENCE_S) * 2)
    )
    path = tmp_path_factory.mktemp("audio") / "sentence.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(pcm)
    return path


@pytest.fixture(scope="module")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture
async def launch(chromium, tmp_path):
    """An async factory of Chromium contexts, each with a fresh profile; all closed after."""
    from playwright.async_api import async_playwright

    contexts = []
    async with async_playwright() as pw:

        async def _launch(wav: Path, *, fake_permission_ui: bool = True):
            context = await pw.chromium.launch_persistent_context(
                str(tmp_path / f"profile-{len(contexts)}"),
                executable_path=str(chromium),
                headless=True,
                args=chromium_args(wav, fake_permission_ui=fake_permission_ui),
                viewport=LAPTOP,
            )
            contexts.append(context)
            return context

        try:
            yield _launch
        finally:
            for context in contexts:
                await asyncio.wait_for(context.close(), 30)


async def page_state(page) -> dict:
    return await page.evaluate(
        """() => {
          const app = document.getElementById('app');
          const alert = document.getElementById('alert');
          return {
            state: app.dataset.state || '',
            end: app.dataset.end || '',
            status: document.getElementById('status').textContent,
            alert: alert.hidden ? '' : alert.textContent,
            stats: {...document.getElementById('stats').dataset},
            user: [...document.querySelectorAll('.turn.user')].map(t => t.dataset.final || ''),
            bot: [...document.querySelectorAll('.turn.bot .text')].map(t => t.textContent),
            latencies: [...document.querySelectorAll('.turn.bot .latency')].map(t => t.textContent),
          };
        }"""
    )


async def wait_for_state(page, done, timeout_s: float) -> dict:
    deadline = time.monotonic() + timeout_s
    state = await page_state(page)
    while not done(state) and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        state = await page_state(page)
    return state


def answered(state: dict) -> bool:
    return (
        any(word_overlap(SENTENCE, text) >= 0.6 for text in state["user"])
        and any(text.strip() for text in state["bot"])
        and int(state["stats"].get("botAudioBytes") or 0) > 0
        and bool(state["stats"].get("lastLatencyMs"))
        and bool(state["latencies"])
    )


async def live_sessions(server: ServerProcess) -> int:
    async with httpx.AsyncClient(timeout=5) as client:
        return (await client.get(server.http + "/ready")).json()["live_sessions"]


async def wait_live_sessions(server: ServerProcess, expected: int, timeout_s: float = 20.0) -> int:
    deadline = time.monotonic() + timeout_s
    live = await live_sessions(server)
    while live != expected and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
        live = await live_sessions(server)
    return live


@pytest.fixture
def server():
    proc = start_server()
    yield proc
    proc.stop()


@pytest.fixture
def full_server():
    proc = start_server("--max-sessions", "1")
    yield proc
    proc.stop()


async def test_page_talks_to_the_bot(server, launch, spoken_wav, artifacts):
    context = await launch(spoken_wav)
    page = await context.new_page()
    console_errors: list[str] = []
    page.on("pageerror", lambda e: console_errors.append(str(e)))
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    await page.goto(server.http + "/", timeout=30_000)
    assert await page.locator("#call").text_content() == "Connect"
    await page.click("#call")

    state = await wait_for_state(page, answered, ANSWER_TIMEOUT_S)
    await page.screenshot(path=str(artifacts / "conversation.png"))
    await page.set_viewport_size(PHONE)
    await page.screenshot(path=str(artifacts / "conversation-phone.png"))
    print("browser client state:", json.dumps(state, indent=1))
    print("voice-to-voice per turn, as the page shows it:", state["latencies"])
    print("screenshots:", artifacts / "conversation.png", artifacts / "conversation-phone.png")
    if not answered(state):
        print("server log:\n", server.log()[-4000:])
    best = max((word_overlap(SENTENCE, t) for t in state["user"]), default=0.0)
    assert best >= 0.6, f"user transcript {state['user']!r} vs {SENTENCE!r}"
    assert any(t.strip() for t in state["bot"]), f"no bot text: {state}"
    assert int(state["stats"]["botAudioBytes"]) > 0, f"no bot audio: {state}"
    assert state["stats"]["lastLatencyMs"] and state["latencies"], f"no latency: {state}"
    assert not state["alert"], state["alert"]
    assert not console_errors, console_errors

    # Hanging up ends the call calmly and frees the server's slot.
    await page.click("#call")
    state = await wait_for_state(page, lambda s: s["state"] == "ended", 15)
    assert state["end"] == "hung-up" and state["status"] == "Disconnected", state
    assert await wait_live_sessions(server, 0) == 0


async def test_page_says_when_the_server_is_at_capacity(full_server, launch, spoken_wav, artifacts):
    async with Caller(full_server.ws_url) as holder:
        assert await wait_live_sessions(full_server, 1) == 1, "the holder was not admitted"
        context = await launch(spoken_wav)
        page = await context.new_page()
        await page.goto(full_server.http + "/", timeout=30_000)
        await page.click("#call")
        state = await wait_for_state(page, lambda s: s["state"] == "ended", REFUSAL_TIMEOUT_S)
        await page.screenshot(path=str(artifacts / "at-capacity.png"))
        print("refused page state:", json.dumps(state, indent=1))
        assert state["end"] == "at-capacity", state
        assert "server at capacity" in state["alert"].lower(), state
        assert await page.locator("#call").text_content() == "Connect"
        assert not holder.closed.is_set(), "the caller holding the slot was dropped"
        assert await live_sessions(full_server) == 1


async def test_page_says_when_the_microphone_is_blocked(server, launch, spoken_wav, artifacts):
    context = await launch(spoken_wav, fake_permission_ui=False)
    page = await context.new_page()
    await page.goto(server.http + "/", timeout=30_000)
    await page.click("#call")
    state = await wait_for_state(page, lambda s: s["state"] == "ended", REFUSAL_TIMEOUT_S)
    await page.screenshot(path=str(artifacts / "microphone-blocked.png"))
    print("blocked page state:", json.dumps(state, indent=1))
    assert state["end"] == "microphone-blocked", state
    assert "microphone blocked" in state["alert"].lower(), state
    # A page without a microphone does not take a slot on the server.
    assert "WebSocket /ws" not in server.log()
