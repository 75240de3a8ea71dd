"""nginx from the system's packages, with deploy/nginx/kudos-pulse.conf (the very file
docs/DEPLOY.md quotes) and a self-signed certificate, in front of `kudos-pulse run`: a signed
Slack slash command and a Bot Framework activity with a real JWT go through HTTPS end to end.

The test starts nginx in the foreground with its own prefix, pid and logs in a temporary
directory and on ports of its own, starts the bot as an operator does, and stops both
whatever happens. It skips only when no nginx can be found.

The Teams reply itself is not delivered here: sending it needs an app token from Microsoft's
token service, which no test may call (the bot's requests for one go to a dead local proxy).
What is checked for Teams is that the JWT-signed activity gets through TLS, is authenticated
by the bot and stores the kudos, and that one without a token is refused."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlmodel import select

from storage.db import Database
from storage.models import Recognition, Workspace
from tests.conftest import ROOT
from tests.harness.fakes.bot_connector import FakeConnector, start_connector
from tests.harness.fakes.bot_framework_keys import FakeBotFrameworkKeys
from tests.harness.fakes.slack_api import FakeSlack
from tests.harness.helpers import count
from tests.harness.slack import BOT_TOKEN, SECRET, sign, slash_command

SITE = ROOT / "deploy" / "nginx" / "kudos-pulse.conf"
APP_ID = "11111111-2222-3333-4444-555555555555"
TENANT = "tenant-1"
pytestmark = pytest.mark.slow


def _nginx() -> str:
    found = shutil.which("nginx") or next(
        (path for path in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(path, os.X_OK)),
        None,
    )
    if found is None:
        pytest.skip("nginx is not installed (the CI script installs it with apt-get where it can)")
    return found


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for localhost and 127.0.0.1, as certbot would leave fullchain/privkey."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    chain, private = folder / "fullchain.pem", folder / "privkey.pem"
    chain.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    private.chmod(0o600)
    return chain, private


def render_site(text: str, replacements: dict[str, str]) -> str:
    """The site file with this test's ports and paths; every placeholder must be there, so a
    change to the documented file that this test would no longer exercise fails here."""
    for placeholder, value in replacements.items():
        assert placeholder in text, f"{placeholder!r} is no longer in {SITE.name}"
        text = text.replace(placeholder, value)
    return text


@dataclass
class Proxy:
    https: str
    http: str
    ca: Path
    log: Path


async def _start_nginx(tmp: Path, bot_port: int) -> tuple[asyncio.subprocess.Process, Proxy]:
    nginx = _nginx()
    chain, private = _self_signed(tmp)
    https_port, http_port = _free_port(), _free_port()
    (tmp / "acme").mkdir()
    site = render_site(
        SITE.read_text(),
        {
            "listen 443 ssl;": f"listen 127.0.0.1:{https_port} ssl;",
            "listen 80;": f"listen 127.0.0.1:{http_port};",
            "/etc/letsencrypt/live/kudos.example.com/fullchain.pem": str(chain),
            "/etc/letsencrypt/live/kudos.example.com/privkey.pem": str(private),
            "server 127.0.0.1:3978;": f"server 127.0.0.1:{bot_port};",
            "root /var/www/letsencrypt;": f"root {tmp / 'acme'};",
        },
    )
    (tmp / "kudos-pulse.conf").write_text(site)
    temp_paths = "\n".join(
        f"    {kind}_temp_path {tmp / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    # What /etc/nginx/nginx.conf provides on a real machine, pointed at the temporary folder.
    (tmp / "nginx.conf").write_text(
        f"""worker_processes 1;
pid {tmp / "nginx.pid"};
error_log {tmp / "error.log"} warn;
events {{ worker_connections 64; }}
http {{
    access_log {tmp / "access.log"};
{temp_paths}
    include {tmp / "kudos-pulse.conf"};
}}
"""
    )
    test = subprocess.run(  # noqa: ASYNC221 - a one-second syntax check before starting it
        [nginx, "-t", "-p", str(tmp), "-e", str(tmp / "error.log"), "-c", str(tmp / "nginx.conf")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert test.returncode == 0, test.stderr
    process = await asyncio.create_subprocess_exec(
        nginx,
        "-p",
        str(tmp),
        "-e",
        str(tmp / "error.log"),
        "-c",
        str(tmp / "nginx.conf"),
        "-g",
        "daemon off;",
        stdin=asyncio.subprocess.DEVNULL,
    )
    proxy = Proxy(
        f"https://localhost:{https_port}", f"http://127.0.0.1:{http_port}", chain, tmp / "error.log"
    )
    await _until(lambda: _listening(https_port), 20, "nginx to listen", process)
    return process, proxy


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


async def _until(
    condition: Callable[[], bool],
    seconds: float,
    what: str,
    process: asyncio.subprocess.Process | None = None,
) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process is not None and process.returncode is not None:
            raise AssertionError(f"exited with {process.returncode} while waiting for {what}")
        if condition():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


async def _start_bot(
    tmp: Path, database_url: str, fake: FakeSlack, keys: FakeBotFrameworkKeys
) -> tuple[asyncio.subprocess.Process, int]:
    port = _free_port()
    env = {
        **os.environ,
        "KUDOS_PULSE_CONFIG": str(ROOT / "app.yaml"),
        "DATABASE_URL": database_url,
        "HOST": "127.0.0.1",  # only nginx reaches it, as DEPLOY.md sets it up
        "PORT": str(port),
        "KUDOS_PULSE_KEY_FILE": str(tmp / "pulse.key"),
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": fake.api_url,
        "MICROSOFT_APP_ID": APP_ID,
        "MICROSOFT_APP_PASSWORD": "not-a-real-password",
        "MICROSOFT_OPENID_METADATA_URL": keys.metadata_url,
        # Nothing may reach Microsoft: the app-token request (made with `requests`, which
        # honours ALL_PROXY) would go to this dead proxy; loopback fakes are exempt.
        "ALL_PROXY": "http://127.0.0.1:9",
        "NO_PROXY": "127.0.0.1,localhost",
    }
    log = (tmp / "bot.log").open("ab")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        env=env,
        cwd=tmp,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=log,
        stderr=log,
    )
    await _until(lambda: _listening(port), 60, "the bot to listen", process)
    return process, port


async def _stop(process: asyncio.subprocess.Process, stop: signal.Signals) -> None:
    """SIGTERM (nginx: SIGQUIT, its graceful stop), then kill after 15 s."""
    if process.returncode is not None:
        return
    try:
        process.send_signal(stop)
        await asyncio.wait_for(process.wait(), timeout=15)
    except (TimeoutError, ProcessLookupError):
        if process.returncode is None:
            process.kill()
            await process.wait()


@dataclass
class Stack:
    proxy: Proxy
    fake: FakeSlack
    keys: FakeBotFrameworkKeys
    connector: FakeConnector
    http: aiohttp.ClientSession
    bot_log: Path


@pytest.fixture
async def stack(db: Database, tmp_path: Path) -> AsyncIterator[Stack]:
    _nginx()  # skip before starting anything
    fake = await FakeSlack().start()
    keys = await FakeBotFrameworkKeys().start()
    connector = FakeConnector()
    connector.add_member("29:alice", "Alice", "aad-alice")
    connector.add_member("29:bob", "Bob", "aad-bob")
    connector_runner = await start_connector(connector)
    started: list[tuple[asyncio.subprocess.Process, signal.Signals]] = []
    try:
        bot, bot_port = await _start_bot(tmp_path, db.url, fake, keys)
        started.append((bot, signal.SIGTERM))
        nginx, proxy = await _start_nginx(tmp_path, bot_port)
        started.append((nginx, signal.SIGQUIT))
        tls = ssl.create_default_context(cafile=str(proxy.ca))
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=tls)) as http:
            yield Stack(proxy, fake, keys, connector, http, tmp_path / "bot.log")
    finally:
        for process, stop in reversed(started):
            await _stop(process, stop)
        await connector_runner.cleanup()
        await keys.close()
        await fake.close()
    for process, _stop_signal in started:
        assert process.returncode is not None  # nothing this test started is left running


def _teams_kudos(connector: FakeConnector) -> dict[str, Any]:
    return {
        "type": "message",
        "id": "msg-tls-1",
        "timestamp": "2026-11-16T10:00:00.000Z",
        "serviceUrl": connector.url,
        "channelId": "msteams",
        "from": {"id": "29:alice", "name": "Alice", "aadObjectId": "aad-alice"},
        "conversation": {
            "id": "a:personal-alice",
            "conversationType": "personal",
            "tenantId": TENANT,
        },
        "recipient": {"id": "28:kudos-bot", "name": "Kudos"},
        "text": "kudos <at>Bob</at> for the calm incident call #easy",
        "entities": [
            {
                "type": "mention",
                "text": "<at>Bob</at>",
                "mentioned": {"id": "29:bob", "name": "Bob"},
            }
        ],
        "channelData": {"tenant": {"id": TENANT}},
        "locale": "en-US",
    }


async def _kudos_in(db: Database, platform: str) -> int:
    async with db.read() as unit:
        statement = (
            select(Recognition.id)
            .join(Workspace, Workspace.id == Recognition.workspace_id)  # type: ignore[arg-type]
            .where(Workspace.platform == platform)
        )
        return len((await unit.session.exec(statement)).all())


async def test_slack_and_teams_through_nginx_over_https(stack: Stack, db: Database) -> None:
    # Slack: a signed slash command, verified by the bot behind the proxy.
    body = urlencode(
        slash_command(
            stack.fake, "<@UBOB|bob> for untangling the refund flow #easy", trigger_id="tls-1"
        )
    )
    headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(body, int(time.time()))}
    async with stack.http.post(
        f"{stack.proxy.https}/slack/events", data=body, headers=headers
    ) as response:
        assert response.status == 200, await response.text()
    await _until(lambda: bool(stack.fake.responses), 30, "the answer to the slash command")
    assert "Kudos sent to <@UBOB>" in str(stack.fake.responses[0])
    await _until_async(lambda: _kudos_in(db, "slack"), 1, 30, "the Slack kudos stored")

    # DEPLOY.md's smoke test: the URL check Slack makes when the Request URL is entered.
    challenge = '{"type": "url_verification", "token": "-", "challenge": "smoke-test"}'
    signed = {"Content-Type": "application/json", **sign(challenge, int(time.time()))}
    async with stack.http.post(
        f"{stack.proxy.https}/slack/events", data=challenge, headers=signed
    ) as response:
        assert response.status == 200
        assert await response.json() == {"challenge": "smoke-test"}

    # A forged Slack signature is refused through the proxy as it is directly.
    forged = {**headers, "X-Slack-Signature": "v0=" + "0" * 64}
    async with stack.http.post(
        f"{stack.proxy.https}/slack/events", data=body, headers=forged
    ) as response:
        assert response.status == 401

    # Teams: an activity carrying a Bot Framework JWT signed by the (local) published key.
    token = stack.keys.token(APP_ID, stack.connector.url)
    activity = _teams_kudos(stack.connector)
    async with stack.http.post(
        f"{stack.proxy.https}/api/messages",
        json=activity,
        headers={"Authorization": f"Bearer {token}"},
    ) as response:
        assert response.status in (200, 201), await response.text()
    await _until_async(lambda: _kudos_in(db, "teams"), 1, 30, "the Teams kudos stored")
    async with stack.http.post(f"{stack.proxy.https}/api/messages", json=activity) as response:
        assert response.status == 401  # no token, no entry
    assert await count(db, Recognition) == 2

    # Plain HTTP only redirects to https; metrics are not published through the proxy.
    async with aiohttp.ClientSession() as plain:
        async with plain.get(f"{stack.proxy.http}/slack/events", allow_redirects=False) as response:
            assert response.status == 301
            assert response.headers["Location"].startswith("https://")
    async with stack.http.get(f"{stack.proxy.https}/metrics") as response:
        assert response.status == 404
    async with stack.http.get(f"{stack.proxy.https}/healthz") as response:
        assert response.status == 200
        assert response.headers.get("Strict-Transport-Security", "").startswith("max-age=")


async def _until_async(read: Callable[[], Any], expected: int, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    value = None
    while time.monotonic() < deadline:
        value = await read()
        if value == expected:
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what} (last: {value})")
