"""`kudos-pulse run` with the recording platform as its only adapter, serving on 127.0.0.1:0.

Used by the SIGTERM test as a real subprocess: everything from the CLI's signal handling down
is the real code; only the choice of adapter and the listening address are set here.
Run it as `python -m tests.harness.fakes.run_recording_bot` from the repository root."""

from __future__ import annotations

import sys
from functools import partialmethod

from bot import app as app_module
from bot.ops.cli import main

app_module.ADAPTER_MODULES["recording"] = "tests.harness.fakes.recording_platform"
app_module.Application.configured_adapters = lambda self: ["recording"]  # type: ignore[method-assign]
app_module.Application.serve = partialmethod(  # type: ignore[method-assign]
    app_module.Application.serve, "127.0.0.1", 0
)

if __name__ == "__main__":
    # One process: a worker child would start as plain `python -m bot`, without this patch.
    sys.exit(main(["run", "--workers", "0"]))
