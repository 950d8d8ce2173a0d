"""A small driver for headless Chromium over the DevTools protocol (a local websocket).

Used by the dashboard tests and `bench/report_scale.py`. It starts Debian's
`chromium` with a fresh profile and no network services, opens one page, and
records console errors, uncaught exceptions and network requests. Nothing is
downloaded: without a `chromium` on PATH, `find_chromium()` returns None and
the tests skip.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from websockets.sync.client import ClientConnection, connect

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--hide-scrollbars",
    "--mute-audio",
    "--remote-debugging-port=0",
)
START_TIMEOUT = 30.0
CALL_TIMEOUT = 60.0


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


class BrowserError(Exception):
    pass


class Page:
    """One tab, attached through a flat DevTools session."""

    def __init__(self, ws: ClientConnection, session_id: str) -> None:
        self._ws = ws
        self._session = session_id
        self._next_id = 0
        self.events: list[dict[str, Any]] = []

    def call(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        self._next_id += 1
        call_id = self._next_id
        self._ws.send(
            json.dumps(
                {
                    "id": call_id,
                    "method": method,
                    "params": params or {},
                    "sessionId": self._session,
                }
            )
        )
        deadline = time.monotonic() + CALL_TIMEOUT
        while True:
            message = json.loads(self._ws.recv(timeout=max(deadline - time.monotonic(), 0.1)))
            if message.get("id") == call_id:
                if "error" in message:
                    raise BrowserError(f"{method}: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result
            if "method" in message:
                self.events.append(message)

    def wait_for(self, event: str, timeout: float = CALL_TIMEOUT) -> dict[str, Any]:
        """The first `event` not yet consumed (earlier ones stay recorded in `events`)."""
        for index, seen in enumerate(self.events):
            if seen["method"] == event and not seen.get("_used"):
                self.events[index]["_used"] = True
                return seen
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            message = json.loads(self._ws.recv(timeout=max(deadline - time.monotonic(), 0.1)))
            if "method" in message:
                self.events.append(message)
                if message["method"] == event:
                    message["_used"] = True
                    return message
        raise BrowserError(f"no {event} within {timeout} s")

    def set_viewport(self, width: int, height: int) -> None:
        self.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )

    def prefer_dark(self, dark: bool) -> None:
        value = "dark" if dark else "light"
        self.call(
            "Emulation.setEmulatedMedia",
            {"features": [{"name": "prefers-color-scheme", "value": value}]},
        )

    def open(self, path: Path) -> float:
        """Load a file and wait for its load event; returns the seconds it took."""
        start = time.perf_counter()
        self.call("Page.navigate", {"url": path.resolve().as_uri()})
        self.wait_for("Page.loadEventFired")
        return time.perf_counter() - start

    def evaluate(self, expression: str) -> Any:
        reply = self.call(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
        )
        if "exceptionDetails" in reply:
            raise BrowserError(f"{expression[:60]}…: {reply['exceptionDetails']}")
        return reply["result"].get("value")

    def screenshot(self, path: Path, *, full_page: bool = True) -> bytes:
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            metrics = self.call("Page.getLayoutMetrics")["cssContentSize"]
            params["captureBeyondViewport"] = True
            params["clip"] = {"x": 0, "y": 0, "width": metrics["width"],
                              "height": metrics["height"], "scale": 1}  # fmt: skip
        data = base64.b64decode(self.call("Page.captureScreenshot", params)["data"])
        path.write_bytes(data)
        return data

    def console_errors(self) -> list[str]:
        """Console errors, failed assertions, uncaught exceptions and error log entries."""
        errors = []
        for event in self.events:
            method, params = event["method"], event.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                errors.append(" ".join(str(a.get("value", a.get("description"))) for a in
                                       params.get("args", [])))  # fmt: skip
            elif method == "Runtime.exceptionThrown":
                details = params.get("exceptionDetails", {})
                errors.append(str(details.get("exception", {}).get("description") or details))
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                errors.append(str(params["entry"].get("text")))
        return errors

    def requests(self) -> list[str]:
        return [
            e["params"]["request"]["url"]
            for e in self.events
            if e["method"] == "Network.requestWillBeSent"
        ]


@contextmanager
def chromium_page(executable: str | None = None) -> Iterator[Page]:
    """Headless Chromium with a throwaway profile and one page with logging enabled."""
    binary = executable or find_chromium()
    if binary is None:
        raise BrowserError("no chromium on PATH (apt-get install chromium)")
    # Chromium's helper processes (zygote, renderers, crashpad) can outlive the
    # browser process for a moment and keep writing into the profile: the whole
    # process group is stopped, and a late file in the profile is not an error.
    with tempfile.TemporaryDirectory(
        prefix="riff-chromium-", ignore_cleanup_errors=True
    ) as profile:
        process = subprocess.Popen(
            [binary, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            port_file = Path(profile) / "DevToolsActivePort"
            deadline = time.monotonic() + START_TIMEOUT
            while not (port_file.is_file() and len(port_file.read_text().splitlines()) >= 2):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise BrowserError(f"chromium did not start (exit {process.poll()})")
                time.sleep(0.05)
            port, browser_path = port_file.read_text().splitlines()[:2]
            with connect(
                f"ws://127.0.0.1:{port}{browser_path}", max_size=None, open_timeout=START_TIMEOUT
            ) as ws:
                target = browser_call(ws, "Target.createTarget", {"url": "about:blank"})
                attached = browser_call(
                    ws, "Target.attachToTarget", {"targetId": target["targetId"], "flatten": True}
                )
                page = Page(ws, attached["sessionId"])
                for domain in ("Page", "Runtime", "Log", "Network"):
                    page.call(f"{domain}.enable")
                yield page
        finally:
            _stop_group(process)


def _stop_group(process: subprocess.Popen[bytes]) -> None:
    """Terminate chromium and every helper it started (they share its session)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def browser_call(ws: ClientConnection, method: str, params: dict[str, Any]) -> dict[str, Any]:
    """A call on the browser itself (no session), skipping events until its reply."""
    call_id = 10**6 + int(time.monotonic_ns() % 10**6)
    ws.send(json.dumps({"id": call_id, "method": method, "params": params}))
    while True:
        message = json.loads(ws.recv(timeout=CALL_TIMEOUT))
        if message.get("id") == call_id:
            if "error" in message:
                raise BrowserError(f"{method}: {message['error']}")
            result: dict[str, Any] = message.get("result", {})
            return result
