"""Who can reach ``migtui serve``: loopback by default, beyond it only with TLS or the admin's word,
a token from a file, and no viewer process outliving the server. No browser needed here: the
websocket is opened as the page's script would (tests/test_serve.py drives a real Chromium)."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import ssl
import subprocess
from pathlib import Path

import aiohttp
import pytest

from cli_process import run_cli
from migtui.qmp.fleet import Fleet
from migtui.record.writer import Recorder
from serving import serving
from test_serve import viewers_of
from waiting import until, until_true


@pytest.fixture
async def recording(tmp_path: Path) -> Path:
    """A recording of an empty fleet: enough to serve."""
    path = tmp_path / "fleet.db"
    async with Recorder(path, Fleet([])):
        pass
    return path


async def test_listening_beyond_loopback_needs_tls_or_insecure_listen(recording):
    code, out, err = await run_cli("serve", "--db", str(recording), "--listen", "0.0.0.0:0")
    assert (code, out) == (2, "")
    assert err == ("migtui: --listen 0.0.0.0: beyond loopback the token would cross the network in clear text; "
                   "give --certfile and --keyfile, or --insecure-listen (behind a TLS proxy)\n")
    code, _, err = await run_cli("serve", "--db", str(recording), "--listen", "[::]:0", "--certfile", "cert.pem")
    assert (code, err) == (2, "migtui: --certfile and --keyfile go together\n")


@pytest.mark.parametrize("argv, said", [
    ([], "give --db FILE (a recording to follow), or --config INVENTORY (to record it here too)"),
    (["--db", "/nonexistent/fleet.db"], "/nonexistent/fleet.db: no such recording (migtui record --db "
                                        "/nonexistent/fleet.db writes one)"),
    (["--db", "{recording}", "--export", "127.0.0.1:0"], "--retention, --export and --interval apply when serve "
     "records: give --config too (or use them on the recorder that writes the file)"),
    (["--db", "{notes}"], "{notes}: not a migtui recording (file is not a database)"),
    (["--db", "{recording}", "--certfile", "{notes}", "--keyfile", "{notes}"],
     "cannot use {notes} and {notes} for TLS: not a PEM certificate and its private key"),
], ids=["nothing-to-serve", "no-such-file", "export-without-recording", "not-a-recording", "not-a-certificate"])
async def test_what_cannot_be_served_is_one_line(recording, tmp_path, argv, said):
    notes = tmp_path / "notes.txt"
    notes.write_text("not a database\n" * 100)
    argv = [a.format(recording=recording, notes=notes) for a in argv]
    code, out, err = await run_cli("serve", *argv)
    assert (out, err) == ("", f"migtui: {said.format(notes=notes)}\n")
    assert code in (1, 2)


async def test_insecure_listen_still_wants_the_token(recording):
    async with serving("--db", str(recording), "--listen", "0.0.0.0:0", "--insecure-listen") as served, \
            aiohttp.ClientSession() as http:
        async with http.get(f"{served.base}/") as answer:
            assert answer.status == 403
        async with http.get(served.url) as answer:
            assert answer.status == 200


async def test_tls_serves_https_with_a_cookie_kept_to_tls(recording, tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    trust = ssl.create_default_context(cafile=str(cert))
    trust.check_hostname = False
    async with serving("--db", str(recording), "--listen", "0.0.0.0:0", "--certfile", str(cert), "--keyfile", str(key)) \
            as served, aiohttp.ClientSession() as http:
        assert served.url.startswith("https://0.0.0.0:")
        base = served.base.replace("0.0.0.0", "127.0.0.1")
        async with http.get(f"{base}/", ssl=trust) as answer:
            assert answer.status == 403
        async with http.get(f"{base}/?token={served.token}", ssl=trust) as answer:
            assert answer.status == 200
            cookie = answer.headers["Set-Cookie"]
            assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
            assert "wss://127.0.0.1:" in await answer.text()  # the page's websocket is TLS too


async def test_a_token_from_a_file_is_never_printed(recording, tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text("short\n")
    code, _, err = await run_cli("serve", "--db", str(recording), "--token-file", str(token_file))
    assert (code, err) == (1, f"migtui: --token-file {token_file}: the token must be at least 16 characters "
                              "on the first line\n")
    token = "a-token-the-team-keeps-in-its-vault"
    token_file.write_text(token + "\n")
    async with serving("--db", str(recording), "--token-file", str(token_file)) as served, \
            aiohttp.ClientSession() as http:
        assert served.said == f"serving the dashboard on {served.base}/ (the token of {token_file})"
        async with http.get(f"{served.base}/", headers={"Authorization": f"Bearer {token}"}) as answer:
            assert answer.status == 200


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
async def test_no_viewer_outlives_the_server(recording, how):
    async with serving("--db", str(recording)) as served, aiohttp.ClientSession() as http:
        websocket = await http.ws_connect(f"{served.base}/ws?width=80&height=24",
                                          headers={"Authorization": f"token {served.token}"})
        await until(lambda: viewers_of(served.process.pid), 20, "the viewer's replay process")
        [viewer] = viewers_of(served.process.pid)
        os.kill(served.process.pid, how)
        await until(lambda: not os.path.exists(f"/proc/{viewer}") or
                    Path(f"/proc/{viewer}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z", 15,
                    "the viewer gone with the server")
        await websocket.close()


async def test_a_viewer_ends_with_its_browser_and_serve_prints_only_its_own_words(recording):
    async with serving("--db", str(recording)) as served, aiohttp.ClientSession() as http:
        websocket = await http.ws_connect(f"{served.base}/ws?width=80&height=24",
                                          headers={"Authorization": f"token {served.token}"})
        await until(lambda: viewers_of(served.process.pid), 20, "the viewer's replay process")
        await websocket.close()
        await until(lambda: not viewers_of(served.process.pid), 15, "the viewer gone with its browser")
        served.process.terminate()
        assert served.process.wait(15) == 0
        assert served.process.stderr.read().decode() == ""  # nothing after the address (asyncio's, aiohttp's...)


async def test_viewers_beyond_max_viewers_are_told_to_come_back_later(recording):
    async with serving("--db", str(recording), "--max-viewers", "1") as served, aiohttp.ClientSession() as http:
        token = {"Authorization": f"token {served.token}"}
        first = await http.ws_connect(f"{served.base}/ws?width=80&height=24", headers=token)
        await until(lambda: viewers_of(served.process.pid), 20, "the first viewer's process")
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(f"{served.base}/ws?width=80&height=24", headers=token)
        assert refused.value.status == 503
        await first.close()
        second = []

        async def let_in() -> bool:  # once the first viewer has ended, its place is free
            with contextlib.suppress(aiohttp.WSServerHandshakeError):
                second.append(await http.ws_connect(f"{served.base}/ws?width=80&height=24", headers=token))
            return bool(second)

        await until_true(let_in, 15, "a second viewer let in")
        await second[0].close()


async def test_the_page_points_its_scripts_and_websocket_where_the_browser_came_from(recording):
    async with serving("--db", str(recording)) as served, aiohttp.ClientSession() as http:
        port = served.base.rsplit(":", 1)[1]
        # Through an SSH tunnel (or as localhost): the addresses the browser used, not serve's own.
        async with http.get(f"http://localhost:{port}/?token={served.token}") as answer:
            page = await answer.text()
        assert f'data-session-websocket-url="ws://localhost:{port}/ws"' in page
        assert f'src="http://localhost:{port}/static/js/textual.js"' in page
    async with serving("--db", str(recording), "--public-url", "https://ops.example.com/migtui/") as served, \
            aiohttp.ClientSession() as http:
        assert served.url == f"https://ops.example.com/migtui/?token={served.token}"
        listening = re.fullmatch(r".* \(listening on (http://127\.0\.0\.1:\d+)\)", served.said).group(1)
        # Behind a reverse proxy under a path of its own: the page's requests go through the proxy.
        async with http.get(f"{listening}/", headers={"Authorization": f"token {served.token}"}) as answer:
            page = await answer.text()
        assert 'data-session-websocket-url="wss://ops.example.com/migtui/ws"' in page
        assert 'src="https://ops.example.com/migtui/static/js/textual.js"' in page


async def test_a_page_of_another_origin_cannot_open_the_dashboard_even_with_the_cookie(recording):
    # (a jar that keeps cookies of an IP address, as browsers do)
    async with serving("--db", str(recording)) as served, \
            aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.get(served.url) as answer:  # the browser now holds the cookie
            assert answer.status == 200
        port = served.base.rsplit(":", 1)[1]
        # SameSite ignores ports: another web app on this host would get the cookie sent along.
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(f"{served.base}/ws?width=80&height=24", origin="http://127.0.0.1:8080")
        assert refused.value.status == 403
        websocket = await http.ws_connect(f"{served.base}/ws?width=80&height=24", origin=f"http://127.0.0.1:{port}")
        await websocket.close()
