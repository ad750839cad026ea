"""Pictures of pages as participants saw them, for the report's click maps.

Where sessions were recorded (``replay = true``), each page load's first
full snapshot is the page as it appeared. Per page key and variant, the
snapshot at the most common viewport width is rebuilt by rrweb's replayer
(``recorder/console/static/uxlab-player.js``) in headless Chromium and taken as a
JPEG, inlined in the report as a data URI (the report stays one script-free
file). Without a recording, without playwright or without Chromium, there is
no picture and the click map keeps its plain grid.
"""

from __future__ import annotations

import base64
import os
import shutil
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recorder import console as console_room
from recorder.storage import recordings as recording
from recorder.storage import store
from recorder.wire.pages import page_key

MAX_HEIGHT = 4000  # CSS pixels of a page drawn at most
SCALE = 0.5  # device pixels per CSS pixel in the picture (the panels are 300 px wide)
PLAYER = Path(console_room.__file__).parent / "static" / "uxlab-player.js"  # the console's player
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@dataclass(frozen=True)
class PageImage:
    """A page as it looked: a JPEG data URI and its size in CSS pixels."""

    uri: str
    width: int
    height: int


SNAPSHOTS_SQL = """
    SELECT x.id, v.id, v.url, pl.id, r.data FROM recordings r
    JOIN sessions x ON x.id = r.session_id JOIN variants v ON v.pk = x.variant_pk
    JOIN page_loads pl ON pl.id = r.load_id
    WHERE x.study_id = ? ORDER BY r.session_id, r.load_id, r.seq
"""
PAGE_SQL = """
    SELECT p.url FROM events e JOIN pages p ON p.id = e.page_id
    WHERE e.load_id = ? AND e.type = 1 ORDER BY e.seq LIMIT 1
"""


def first_snapshots(
    db: str | Path, study_id: str
) -> dict[tuple[str, str], list[list[dict[str, Any]]]]:
    """(page key, variant) -> [meta, full snapshot] of each recorded page load."""
    conn = store.connect(db, readonly=True)
    found: dict[tuple[str, str], list[list[dict[str, Any]]]] = {}
    try:
        rules = store.load_study(conn, study_id).pages  # the study's page keys, one rule
        done: set[int] = set()
        meta: dict[str, Any] | None = None
        for _sid, variant, variant_url, load_id, data in conn.execute(SNAPSHOTS_SQL, (study_id,)):
            if load_id in done:
                continue
            for event in recording.unpack(data):
                if event["type"] == recording.RRWEB_META:
                    meta = event
                elif event["type"] == recording.RRWEB_FULL_SNAPSHOT and meta is not None:
                    done.add(load_id)
                    row = conn.execute(PAGE_SQL, (load_id,)).fetchone()
                    if row:
                        key = page_key(row[0], variant_url, rules)
                        found.setdefault((key, variant), []).append([meta, event])
                    meta = None
                    break
    finally:
        conn.close()
    return found


def _chromium() -> str | None:
    path = (
        os.environ.get("UXLAB_CHROMIUM")
        or shutil.which("chromium")
        or shutil.which("chromium-browser")
    )
    return path if path and Path(path).exists() else None


def page_images(
    db: str | Path, study_id: str, pages: set[str] | None = None
) -> dict[tuple[str, str], PageImage]:
    """(page key, variant) -> its picture at the most common viewport width; {} when none
    can be made (no recording, no playwright, no Chromium)."""
    snapshots = first_snapshots(db, study_id)
    if pages is not None:
        snapshots = {k: v for k, v in snapshots.items() if k[0] in pages}
    chromium = _chromium()
    if not snapshots or chromium is None:
        return {}
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return {}
    player = PLAYER.read_text(encoding="utf-8")
    out: dict[tuple[str, str], PageImage] = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
        try:
            for key, loads in snapshots.items():
                widths = Counter(int(meta["data"]["width"]) for meta, _ in loads)
                width = widths.most_common(1)[0][0]
                events = next(e for e in loads if int(e[0]["data"]["width"]) == width)
                out[key] = _render(browser, player, events, width)
        finally:
            browser.close()
    return out


def _render(browser: Any, player: str, events: list[dict[str, Any]], width: int) -> PageImage:
    import orjson

    context = browser.new_context(viewport={"width": width, "height": 800}, device_scale_factor=SCALE,
                                  java_script_enabled=True, offline=True)  # fmt: skip
    try:
        page = context.new_page()
        page.set_content("<!doctype html><body style='margin:0'><div id=root></div></body>")
        page.add_script_tag(content=player)
        height = page.evaluate(
            """(events) => {
              const r = new uxlabPlayer.Replayer(events, {root: document.getElementById('root'),
                showWarning: false, mouseTail: false})
              r.pause(events[events.length - 1].timestamp - events[0].timestamp + 1)
              const doc = r.iframe.contentDocument
              const h = Math.max(doc.documentElement.scrollHeight, doc.body ? doc.body.scrollHeight : 0)
              r.iframe.style.height = h + 'px'
              r.wrapper.style.transform = 'none'
              window.__frame = r.iframe
              return h
            }""",
            orjson.loads(orjson.dumps(events)),
        )
        height = int(min(max(height, 1), MAX_HEIGHT))
        page.set_viewport_size({"width": width, "height": height})
        picture = page.locator("iframe").screenshot(type="jpeg", quality=70, animations="disabled",
                                                    timeout=15000)  # fmt: skip
    finally:
        context.close()
    uri = "data:image/jpeg;base64," + base64.b64encode(picture).decode("ascii")
    return PageImage(uri, width, height)
