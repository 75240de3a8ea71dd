"""`kudos-pulse init [DIR]`: the files a deployment starts from, written once.

A commented app.yaml (the one shipped with the code), an environment file listing every
variable the bot reads (all commented out, no secret filled in), and the pulse key file,
made by the same mechanism `run` uses (bot/ops/keys.py). Nothing that exists is ever
overwritten, so a second `init` changes nothing and never re-keys open pulses.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from bot.ops.config import ConfigError, load_config
from bot.ops.keys import KeyProblem, load_keyring

CONFIG_NAME = "app.yaml"
ENV_NAME = "kudos-pulse.env"
# The environment file will hold tokens and passwords once filled in.
MODES = {CONFIG_NAME: 0o644, ENV_NAME: 0o600}


def template(name: str) -> str:
    return resources.files("bot.ops").joinpath("templates", name).read_text(encoding="utf-8")


def _write_once(path: Path, text: str, mode: int) -> bool:
    """Create `path` with `text` unless it exists (O_EXCL: not even a race overwrites)."""
    try:
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        return False
    with os.fdopen(handle, "w", encoding="utf-8") as file:
        file.write(text)
    os.chmod(path, mode)  # whatever the umask
    return True


def init(directory: Path) -> int:
    directory.mkdir(parents=True, exist_ok=True)
    for name, mode in MODES.items():
        path = directory / name
        if _write_once(path, template(name), mode):
            print(f"created  {path} (mode {mode:o})")
        else:
            print(f"kept     {path}: it exists, and init never overwrites")
    config_path = directory / CONFIG_NAME
    try:
        config = load_config(config_path)
    except ConfigError as error:
        print(f"kudos-pulse init: {error}")
        return 2
    if config.pulses.secret:
        print(
            "kept     the pulse key: KUDOS_PULSE_SECRET (or pulses.secret) is set, no file needed"
        )
    else:
        key_file = Path(config.pulses.key_file).expanduser()
        existed = key_file.exists()
        try:
            load_keyring(config, create=True)
        except KeyProblem as problem:
            print(f"kudos-pulse init: {problem}")
            return 1
        if existed:
            print(f"kept     {key_file}: the pulse key exists, and init never replaces it")
        else:
            print(
                f"created  {key_file} (mode 600): the pulse key; back it up apart from the "
                "database, and give every process against that database the same one"
            )
    env_file = directory / ENV_NAME
    print(
        f"Next: fill in {env_file}, then load it and prepare the database:\n"
        f"  set -a; . {env_file}; set +a\n"
        f"  export KUDOS_PULSE_CONFIG={config_path.resolve()}\n"
        "  kudos-pulse migrate && kudos-pulse check"
    )
    return 0
