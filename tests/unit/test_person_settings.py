"""Every setting kept for one person lives under `person:<id>:`, the prefix `forget` erases
(tests/ops/test_forget.py checks the erasure itself). A new per-person setting key built any
other way would survive erasure: this finds every settings-key builder taking a person id."""

from __future__ import annotations

import importlib
import inspect

from bot.app import FEATURE_PARSERS  # noqa: F401  (imports every feature)
from storage.repositories.settings import person_prefix

FEATURES = ("kudos", "groups", "digests", "pulses", "home")


def test_every_per_person_setting_key_uses_the_person_prefix() -> None:
    builders = []
    for feature in FEATURES:
        rules = importlib.import_module(f"bot.{feature}.rules")
        for name, function in inspect.getmembers(rules, inspect.isfunction):
            if name.endswith("_key") and "person_id" in inspect.signature(function).parameters:
                builders.append(name)
                assert function(person_id=4242).startswith(person_prefix(4242)), name
    assert "notify_off_key" in builders
