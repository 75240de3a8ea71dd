"""The recording platform for a separate bot process: `HttpPlatform` under the name "recording",
delivering to the `RecordingChat` at RECORDING_URL, so a test can count what it really sent."""

from __future__ import annotations

import os

from bot.app import Application
from tests.harness.fakes.http_platform import HttpPlatform

NAME = "recording"


def install(app: Application) -> HttpPlatform:
    platform = HttpPlatform(os.environ["RECORDING_URL"], name=NAME)
    app.add_platform(platform)
    app.on_shutdown(platform.close)
    return platform
