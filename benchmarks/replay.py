"""Recordings (rrweb) measured in Chromium against a real ``uxlab serve``.

Run: ``.venv/bin/python benchmarks/replay.py [--seconds 30] [--lag-trials 10]``

Prints:

- bytes per minute of recording on the demo shop (a scripted participant) and on a
  heavy page (3000 nodes, 60 text changes and a moving element every 100 ms):
  what went over the network (gzip bodies) and what is stored (zlib chunks);
- main-thread cost: the recorder module's load plus its first full snapshot (on the
  heavy page and on an empty one), and the time added per mutation batch (one heavy
  page tick with and without recording, to the next task);
- storage per session (the demo visit);
- live-view lag: a participant's click to the change in the console's live view
  (both pages on this machine, one clock);
- replay start for a 30-minute session: the replay page opened to the player
  showing the page, and a seek to 29:00.
"""

from __future__ import annotations

import argparse
import gzip
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import CHROMIUM, CHROMIUM_ARGS, Server  # noqa: E402
from tests.test_recording_browser import load_demo, session_id  # noqa: E402

STUDY = "demo-shop"
ROWS = 300
HEAVY = (
    "<!doctype html><title>Heavy</title><style>td{padding:2px 4px;font:12px sans-serif}"
    "#dot{position:absolute;width:10px;height:10px;background:red}</style><div id=dot></div><table>"
    + "".join(
        f"<tr>{''.join(f'<td id=c{r}_{c}>{r * 10 + c}</td>' for c in range(10))}</tr>"
        for r in range(ROWS)
    )
    + "</table><script>"
    "window.ticks = []; let n = 0;"
    "function tick () { const t0 = performance.now();"
    " for (let i = 0; i < 60; i++) { const r = (n * 7 + i * 13) % 300, c = i % 10;"
    "  document.getElementById('c' + r + '_' + c).textContent = String(n + i) }"
    " const dot = document.getElementById('dot'); dot.style.left = (n * 5 % 800) + 'px';"
    " dot.style.top = (n * 3 % 600) + 'px'; n++;"
    # Layout forced in the tick in both runs (the next frame does it anyway; rrweb's
    # mutation callback, a microtask before the next task, would otherwise pay it).
    " document.body.offsetHeight;"
    " const ch = new MessageChannel(); ch.port1.onmessage = () => window.ticks.push(performance.now() - t0);"
    " ch.port2.postMessage(0) }"
    "setInterval(tick, 100)</script>"
    "<script src='/uxlab.js' async></script>"
)


def stored_bytes(db: Path, token: str) -> tuple[int, int]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        row = conn.execute(
            "SELECT count(*), coalesce(sum(r.size), 0) FROM recordings r JOIN sessions s"
            " ON s.id = r.session_id WHERE s.token = ?",
            (token,),
        ).fetchone()
    finally:
        conn.close()
    return int(row[0]), int(row[1])


class Bodies:
    """Bytes of the recording requests a page sent."""

    def __init__(self, page: Any) -> None:
        self.sent = 0
        self.inflated = 0
        page.on("request", self.request)

    def request(self, r: Any) -> None:
        if r.method == "POST" and "/api/v1/replay" in r.url:
            body = r.post_data_buffer or b""
            self.sent += len(body)
            self.inflated += len(gzip.decompress(body) if body[:2] == b"\x1f\x8b" else body)


def demo_visit(server: Server, browser: Any, seconds: float) -> dict[str, float]:
    token = server.new_session(STUDY, "P01", "B")
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    bodies = Bodies(page)
    started = time.monotonic()
    page.goto(f"{server.url}/demo/B/?uxlab={token}")
    steps = ["#nav-shoes", "#shoe-42", "#add-to-cart", "#view-cart", "#nav-help", "#tab-returns",
             "#tab-payment", "#nav-shoes", "#shoe-42"]  # fmt: skip
    i = 0
    while time.monotonic() - started < seconds:
        page.mouse.move(200 + i * 37 % 700, 150 + i * 53 % 500, steps=8)
        target = steps[i % len(steps)]
        if page.locator(target).count() and page.locator(target).is_visible():
            page.click(target)
        page.mouse.wheel(0, 300 if i % 2 else -300)
        page.wait_for_timeout(1500)
        i += 1
    elapsed = time.monotonic() - started
    page.close()
    time.sleep(2)
    context.close()
    chunks, size = stored_bytes(server.db_path, token)
    return {"minutes": elapsed / 60, "sent": bodies.sent, "inflated": bodies.inflated,
            "stored": size, "chunks": chunks}  # fmt: skip


def heavy_visit(server: Server, browser: Any, seconds: float, record: bool) -> dict[str, Any]:
    token = server.new_session(STUDY, "P02" if record else "P03", "B")
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    bodies = Bodies(page)
    html = HEAVY if record else HEAVY.replace("<script src='/uxlab.js' async></script>", "")
    page.route(
        f"{server.url}/demo/B/heavy*", lambda r: r.fulfill(body=html, content_type="text/html")
    )
    started = time.monotonic()
    page.goto(f"{server.url}/demo/B/heavy?uxlab={token}")
    page.wait_for_timeout(3000)  # the recorder is loaded and has taken its snapshot
    cdp = context.new_cdp_session(page)
    cdp.send("Profiler.enable")
    cdp.send("Profiler.setSamplingInterval", {"interval": 200})
    before = page.evaluate("window.ticks.length")
    cdp.send("Profiler.start")
    page.wait_for_timeout(seconds * 1000 - 3000)
    profile = cdp.send("Profiler.stop")["profile"]
    batches = page.evaluate("window.ticks.length") - before
    ticks = page.evaluate("window.ticks.slice(20)")
    elapsed = time.monotonic() - started
    page.close()
    time.sleep(2)
    context.close()
    _chunks, size = stored_bytes(server.db_path, token)
    return {"minutes": elapsed / 60, "sent": bodies.sent, "inflated": bodies.inflated,
            "stored": size, "ticks": ticks, "recorder_ms": _inclusive_ms(profile, "uxlab-replay.js"),
            "batches": batches}  # fmt: skip


def _inclusive_ms(profile: dict[str, Any], script: str) -> float:
    """Milliseconds of samples with a frame of ``script`` on the stack (a CPU profile)."""
    parent: dict[int, int] = {}
    own: dict[int, bool] = {}
    for node in profile["nodes"]:
        own[node["id"]] = node["callFrame"]["url"].endswith(script)
        for child in node.get("children", []):
            parent[child] = node["id"]
    inside: dict[int, bool] = {}

    def under(node: int) -> bool:
        if node not in inside:
            inside[node] = own[node] or (node in parent and under(parent[node]))
        return inside[node]

    total = 0.0
    for sample, delta in zip(profile["samples"], profile["timeDeltas"], strict=True):
        if under(sample):
            total += delta / 1000.0
    return total


def module_start(browser: Any, heavy: bool, runs: int = 5) -> float:
    """ms to evaluate uxlab-replay.js, which records a full snapshot at once."""
    module = (ROOT / "recorder" / "static" / "uxlab-replay.js").read_text()
    body = HEAVY.split("<script>")[0] if heavy else "<!doctype html><p>empty</p>"
    page_html = (body + "<script>window.uxlab = {r: {s: 'bench', p: 'p', u: 'http://127.0.0.1:9/api/v1/collect'}};"
                 "window.t0 = performance.now()</script><script src='/m.js'></script>"
                 "<script>window.t1 = performance.now()</script>")  # fmt: skip
    times = []
    for _ in range(runs):
        context = browser.new_context()
        page = context.new_page()
        page.route(
            "http://bench.test/", lambda r: r.fulfill(body=page_html, content_type="text/html")
        )
        page.route(
            "http://bench.test/m.js",
            lambda r: r.fulfill(body=module, content_type="text/javascript"),
        )
        page.route("http://127.0.0.1:9/**", lambda r: r.abort())
        page.goto("http://bench.test/")
        times.append(page.evaluate("window.t1 - window.t0"))
        context.close()
    return statistics.median(times)


def live_lag(server: Server, browser: Any, trials: int) -> list[float]:
    token = server.new_session(STUDY, "P04", "B")
    sid = session_id(server, token)
    participant = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    participant.goto(f"{server.url}/demo/B/help?uxlab={token}")
    participant.wait_for_timeout(2000)
    console = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    console.goto(
        f"{server.url}/login?token={server.admin_token}&next=/studies/{STUDY}/sessions/{sid}"
    )
    console.wait_for_selector("#screen[data-live]")
    console.wait_for_timeout(1000)
    lags = []
    for i in range(trials):
        tab, text = (("#tab-returns", "Send back unworn"), ("#tab-payment", "We take all major"))[
            i % 2
        ]
        console.evaluate(
            """(text) => { window.seenAt = 0; const doc = document.querySelector('#screen iframe').contentDocument;
              const check = () => { if (!window.seenAt && doc.body.innerText.includes(text)) window.seenAt = Date.now() };
              window.watch = new MutationObserver(check); window.watch.observe(doc, {subtree: true, childList: true,
                attributes: true, characterData: true}); check() }""",
            text,
        )
        clicked = participant.evaluate(
            "(sel) => { const t = Date.now(); document.querySelector(sel).click(); return t }", tab
        )
        deadline = time.monotonic() + 10
        seen = 0
        while not seen and time.monotonic() < deadline:
            console.wait_for_timeout(20)
            seen = console.evaluate("window.seenAt")
        console.evaluate("window.watch.disconnect()")
        if seen:
            lags.append((seen - clicked) / 1000)
        participant.wait_for_timeout(700)
    participant.context.close()
    console.context.close()
    return lags


def long_session(server: Server, browser: Any, minutes: int = 30) -> dict[str, float]:
    """A 30-minute recording posted through /api/v1/replay, then opened in the console."""
    token = server.new_session(STUDY, "P05", "B")
    sid = session_id(server, token)
    # A real first page (meta + full snapshot) from the demo shop...
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.goto(f"{server.url}/demo/B/help?uxlab={token}")
    page.wait_for_timeout(2500)
    page.close()
    context.close()
    conn = sqlite3.connect(f"file:{server.db_path}?mode=ro", uri=True)
    import zlib

    first = [orjson.loads(zlib.decompress(d)) for (d,) in conn.execute(
        "SELECT data FROM recordings WHERE session_id = ? ORDER BY seq", (sid,))]  # fmt: skip
    conn.close()
    events = [e for chunk in first for e in chunk]
    start = events[0]["timestamp"]
    ids = [n for n in range(5, 200)]
    # ...then 30 minutes of mouse moves, scrolls and text changes on existing nodes, 4 events/s.
    chunks, seq, t = [], 100, start + 3000
    while t < start + minutes * 60_000:
        batch = []
        for j in range(8):
            t += 250
            kind = j % 4
            if kind < 2:
                data = {"source": 1, "positions": [{"x": (t // 7) % 1200, "y": (t // 11) % 700, "id": 1,
                                                     "timeOffset": 0}]}  # fmt: skip
            elif kind == 2:
                data = {"source": 3, "id": 1, "x": 0, "y": int(t // 13) % 400}
            else:
                data = {"source": 0, "texts": [], "attributes": [{"id": ids[int(t) % len(ids)],
                        "attributes": {"data-bench": str(int(t))}}], "removes": [], "adds": []}  # fmt: skip
            batch.append({"type": 3, "data": data, "timestamp": t})
        chunks.append({"seq": seq, "t": batch[0]["timestamp"], "events": batch})
        seq += 1
    load = "bench-long"
    head = [e for e in events if e["type"] in (4, 2)]
    for e in head:
        e["timestamp"] = start
    posts = [{"seq": 0, "t": start, "events": head}, *chunks]
    for i in range(0, len(posts), 200):
        body = orjson.dumps({"v": 1, "session": token, "page": load, "sent": time.time() * 1000,
                             "chunks": posts[i : i + 200]})  # fmt: skip
        status, answer = server.request("POST", "/api/v1/replay", raw=gzip.compress(body))
        assert status == 200, answer
    total_events = sum(len(c["events"]) for c in posts)
    console = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    console.goto(f"{server.url}/login?token={server.admin_token}&next=/studies/{STUDY}")
    times = []
    for _ in range(3):
        t0 = time.monotonic()
        console.goto(f"{server.url}/studies/{STUDY}/sessions/{sid}/replay")
        console.wait_for_selector("#player[data-ready]")
        console.frame_locator("#player iframe").locator("body").wait_for()
        times.append(time.monotonic() - t0)
    t0 = time.monotonic()
    console.keyboard.press("End")
    console.evaluate("document.querySelector('.uxp-track').dispatchEvent(new MouseEvent('click', {clientX: "
                     "document.querySelector('.uxp-track').getBoundingClientRect().left + "
                     "document.querySelector('.uxp-track').getBoundingClientRect().width * 29 / 30}))")  # fmt: skip
    console.wait_for_timeout(50)
    seek = time.monotonic() - t0
    _, size = stored_bytes(server.db_path, token)
    console.context.close()
    return {
        "events": total_events,
        "stored": size,
        "open_s": statistics.median(times),
        "seek_s": seek,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="length of each recorded visit")
    parser.add_argument("--lag-trials", type=int, default=10)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    folder = Path(tempfile.mkdtemp(prefix="uxlab-replay-bench-"))
    server = Server(folder / "uxlab.db").start()
    try:
        load_demo(server, replay=True)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
            )
            demo = demo_visit(server, browser, args.seconds)
            rec = heavy_visit(server, browser, args.seconds, record=True)
            plain = heavy_visit(server, browser, args.seconds, record=False)
            for name, run in (("demo shop", demo), ("heavy page", rec)):
                per_min = 1 / run["minutes"] / 1024
                print(f"{name:<11} network {run['sent'] * per_min:7.1f} kB/min gzip "
                      f"({run['inflated'] * per_min:7.1f} kB/min as JSON), stored {run['stored'] * per_min:7.1f} kB/min")  # fmt: skip
            print(f"storage per session: the {demo['minutes']:.1f}-minute demo visit stored "
                  f"{demo['stored'] / 1024:.1f} kB in {demo['chunks']} chunks")  # fmt: skip
            with_rec, without = statistics.median(rec["ticks"]), statistics.median(plain["ticks"])
            print(f"heavy page, main thread in the recorder module (CPU profile) per mutation batch "
                  f"(60 text changes + a moved element): {rec['recorder_ms'] / rec['batches']:.2f} ms "
                  f"({rec['recorder_ms']:.0f} ms over {rec['batches']} batches, chunking and gzip included)")  # fmt: skip
            print(f"heavy page tick with forced layout, to the next task: {with_rec:.2f} ms recorded, "
                  f"{without:.2f} ms not")  # fmt: skip
            heavy_start, empty_start = (
                module_start(browser, True, 9),
                module_start(browser, False, 9),
            )
            print(f"recorder module evaluated + first full snapshot: {heavy_start:.1f} ms on the "
                  f"3000-cell page, {empty_start:.1f} ms on an empty page "
                  f"(snapshot of 3000 cells ~{heavy_start - empty_start:.1f} ms)")  # fmt: skip
            lags = live_lag(server, browser, args.lag_trials)
            print(f"live view lag, click to the console's mirror: median {statistics.median(lags):.2f} s, "
                  f"max {max(lags):.2f} s over {len(lags)} clicks")  # fmt: skip
            long = long_session(server, browser)
            print(f"30-minute session ({long['events']} rrweb events, {long['stored'] / 1024:.0f} kB stored): "
                  f"replay page to the page on screen {long['open_s']:.2f} s; seek to 29:00 {long['seek_s']:.2f} s")  # fmt: skip
            browser.close()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
