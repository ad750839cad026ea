"""The snippet's size and its main-thread cost per captured click, measured in Chromium.

Run: ``.venv/bin/python benchmarks/snippet.py [--clicks 1000] [--runs 5]``

Prints the built file's raw and gzip bytes, then the main-thread milliseconds per
click: the click listener itself (1000 dispatched clicks on a realistic page,
with and without the snippet, timed with ``performance.now``), and everything the
snippet does for those clicks including batching, JSON and sending (Chromium's
own TaskDuration metric, with and without the snippet). The collector is stubbed
by playwright so that only the page is measured.
"""

from __future__ import annotations

import argparse
import gzip
import os
import statistics
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SNIPPET = ROOT / "recorder" / "collector" / "static" / "uxlab.js"
CHROMIUM = os.environ.get("UXLAB_CHROMIUM", "/usr/bin/chromium")
ORIGIN = "http://bench.uxlab.test"

# A page shaped like a prototype: nav, a grid of product cards, a form.
CARDS = "".join(
    f'<li><a class="card" href="#p{i}"><svg width="80" height="40"><rect width="80" height="40"/></svg>'
    f"<span>Shoe {i}</span><span>Trail running</span><b>${50 + i}</b></a></li>"
    for i in range(120)
)
PAGE = f"""<!doctype html><title>Bench</title>
<header><nav><a href="#">Home</a><a href="#">Shoes</a><button id="menu">Menu</button></nav></header>
<main><section><div><ul class="grid">{CARDS}</ul></div></section>
<form><label>Email <input name="email"></label><button>Send</button></form></main>
{{script}}"""
TAG = '<script src="/uxlab.js" data-session="bench-session"></script>'

CLICK_LOOP = """(n) => {
    const targets = [...document.querySelectorAll('.card span, .card b, nav a, button, main, li')];
    targets.forEach((el) => el.addEventListener('click', (e) => e.preventDefault()));
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
        const el = targets[i % targets.length];
        el.dispatchEvent(new MouseEvent('click', {bubbles: true, cancelable: true, clientX: 10 + i % 300,
                                                  clientY: 10 + i % 200, detail: 1}));
    }
    return performance.now() - t0;
}"""


def measure(browser: Any, with_snippet: bool, clicks: int) -> tuple[float, float]:
    """(ms in the click loop, ms of main-thread tasks until the batches are sent)."""
    context = browser.new_context()
    page = context.new_page()
    html = PAGE.replace("{script}", TAG if with_snippet else "")
    page.route(f"{ORIGIN}/", lambda r: r.fulfill(body=html, content_type="text/html"))
    page.route(f"{ORIGIN}/uxlab.js", lambda r: r.fulfill(body=SNIPPET.read_bytes(),
                                                         content_type="application/javascript"))  # fmt: skip
    page.route(f"{ORIGIN}/api/v1/collect", lambda r: r.fulfill(
        body='{"accepted": 1, "duplicates": 0}', content_type="application/json"))  # fmt: skip
    page.goto(f"{ORIGIN}/")
    page.wait_for_timeout(1500)  # the page event has gone out
    cdp = context.new_cdp_session(page)
    cdp.send("Performance.enable")

    def busy() -> float:
        metrics = cdp.send("Performance.getMetrics")["metrics"]
        return next(m["value"] for m in metrics if m["name"] == "TaskDuration") * 1000

    before = busy()
    loop_ms = float(page.evaluate(CLICK_LOOP, clicks))
    page.wait_for_timeout(2500)  # the flush timer, JSON and the requests
    if with_snippet:
        assert page.evaluate("uxlab.stats().seq") == clicks + 1, "every click captured"
    total_ms = busy() - before
    context.close()
    return loop_ms, total_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clicks", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    raw = SNIPPET.read_bytes()
    # Loaded only where replay is on: the recorder module, and the console's player.
    for path in (
        SNIPPET.parent / "uxlab-replay.js",
        ROOT / "recorder" / "console" / "static" / "uxlab-player.js",
    ):
        extra = path.read_bytes()
        print(f"{path.relative_to(ROOT)}: {len(extra)} bytes raw, "
              f"{len(gzip.compress(extra, 9))} bytes gzip")  # fmt: skip
    print(
        f"recorder/collector/static/uxlab.js: {len(raw)} bytes raw, {len(gzip.compress(raw, 9))} bytes gzip"
    )

    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        loop, task = [], []
        for _ in range(args.runs):
            base_loop, base_task = measure(browser, False, args.clicks)
            snip_loop, snip_task = measure(browser, True, args.clicks)
            loop.append((snip_loop - base_loop) / args.clicks)
            task.append((snip_task - base_task) / args.clicks)
        browser.close()
    print(f"main thread per click, listener only:        {statistics.median(loop):.4f} ms "
          f"(median of {args.runs} runs of {args.clicks} clicks; budget well under 0.1 ms)")  # fmt: skip
    print(f"main thread per click, with batching/sending: {statistics.median(task):.4f} ms")


if __name__ == "__main__":
    main()
