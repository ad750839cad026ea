"""``uxlab clip``: a stretch of a session's recording as one self-contained HTML file.

The file inlines uxlab's player (rrweb's replayer, ``recorder/console/static/uxlab-player.*``),
the recording of the stretch and its timeline. It makes no request: a
Content-Security-Policy in the file allows only what is inline (the replayed
page's remote images and fonts stay blank offline rather than being fetched).

The stretch starts from the last full snapshot at or before ``--from`` (the
page as it was), and the player opens at ``--from``.
"""

from __future__ import annotations

import argparse
import html
from pathlib import Path
from typing import Any

import orjson

from analyzer.metrics.timeline import session_timeline
from recorder import console as console_room
from recorder.recordings import RecordingError, parse_clock, session_of
from recorder.settings import db_path
from recorder.storage import recordings as recording
from recorder.storage import store

STATIC = Path(console_room.__file__).parent / "static"  # the console's player
CLIP_CSP = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "img-src data: blob:; font-src data:; media-src data: blob:"
)


def clip_events(events: list[dict[str, Any]], from_ms: float, to_ms: float) -> list[dict[str, Any]]:
    """The events needed to show ``from_ms``..``to_ms``: from the last full snapshot at or
    before ``from_ms`` (with its meta event), up to ``to_ms``."""
    snapshots = [i for i, e in enumerate(events) if e["type"] == recording.RRWEB_FULL_SNAPSHOT]
    if not snapshots:
        return []
    before = [i for i in snapshots if events[i]["timestamp"] <= from_ms]
    start = before[-1] if before else snapshots[0]
    meta = [e for e in events[:start] if e["type"] == recording.RRWEB_META][-1:]
    return meta + [e for e in events[start:] if e["timestamp"] <= to_ms]


def _script_safe(text: str) -> str:
    # Inside <script>, only "</" can end the element early.
    return text.replace("</", "<\\/")


def render_clip(doc: dict[str, Any], title: str) -> str:
    """The clip's HTML: player, styles and recording inline."""
    player = (STATIC / "uxlab-player.js").read_text(encoding="utf-8")
    css = (STATIC / "uxlab-player.css").read_text(encoding="utf-8")
    data = orjson.dumps(doc).decode()
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CLIP_CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>body {{ margin: 24px; font: 14px/1.4 system-ui, sans-serif; color: #1d2433; }}
h1 {{ font-size: 18px; margin: 0 0 12px; }}
{_script_safe(css)}</style>
</head>
<body>
<h1>{html.escape(title)}</h1>
<div id="player"></div>
<script type="application/json" id="clip">{_script_safe(data)}</script>
<script>{_script_safe(player)}</script>
<script>// After load: the replayer's frame would otherwise hold the page's load event open.
window.addEventListener('load', () => {{
  uxlabPlayer.mount(document.getElementById('player'), JSON.parse(document.getElementById('clip').textContent))
  document.getElementById('player').dataset.ready = '1'
}})</script>
</body>
</html>
"""


def build_clip(
    db: str, study_id: str, number: int, start_s: float, end_s: float
) -> tuple[str, str]:
    """The clip's HTML and a one-line summary."""
    if end_s <= start_s:
        raise RecordingError("--to: must be after --from")
    conn = store.connect(db, readonly=True)
    try:
        info = session_of(conn, study_id, number)
        events = recording.session_events(conn, info.id)
    finally:
        conn.close()
    if not events:
        raise RecordingError(
            f"session {number} has no recording (does its study set replay = true?)"
        )
    timeline = session_timeline(db, study_id, info.id)
    origin = timeline["start_ms"] or events[0]["timestamp"]
    clipped = clip_events(events, origin + start_s * 1000, origin + end_s * 1000)
    if len(clipped) < 2:
        raise RecordingError(f"session {number} has no recording from {start_s:g} s to {end_s:g} s")
    items = [i for i in timeline["items"] if start_s <= i["t"] <= end_s
             or (i["kind"] == "task" and i["t"] <= end_s and (i["end"] is None or i["end"] >= start_s))]  # fmt: skip
    doc = {"events": clipped, "from": start_s, "to": end_s, "t": start_s,
           "timeline": {"start_ms": origin, "end_ms": timeline["end_ms"], "items": items}}  # fmt: skip
    clock = f"{_clock(start_s)}–{_clock(end_s)}"
    title = f"{info.participant} · {study_id} · session {number} · {clock}"
    markers = sum(1 for i in items if i["kind"] == "marker")
    return render_clip(doc, title), f"{clock}, {len(clipped)} recorded events, {markers} markers"


def _clock(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 60}:{s % 60:02d}"


def clip_command(args: argparse.Namespace) -> int:
    """``uxlab clip STUDY N --from 1:20 --to 1:45 -o clip.html``."""
    db = db_path(args.db)
    if not Path(db).is_file():
        raise RecordingError(f"no database at {db}")
    page, summary = build_clip(db, args.study, args.session, parse_clock(args.start),
                               parse_clock(args.end))  # fmt: skip
    Path(args.output).write_text(page, encoding="utf-8")
    print(f"wrote {args.output}: {summary} ({len(page.encode()) / 1024:.0f} KB, plays offline)")
    return 0
