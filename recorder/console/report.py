"""The console's report page: the same self-contained HTML as ``uxlab report``.

The analyzer (numba, scipy) is imported only when a report is asked for, so
``import recorder`` stays light.
"""

from __future__ import annotations

import logging

from aiohttp import web

from recorder.console.pages import html_page, viewer
from recorder.storage import store
from recorder.web import SETTINGS_KEY, in_thread


def _render(db: str, study_id: str, base: str) -> str:
    from analyzer.report.render import study_report
    from analyzer.warm import announce_waits

    announce_waits(logging.getLogger("uxlab.report").warning)  # before the warm-up is done
    return study_report(db, study_id, replay_base=base)  # markers link to their replay


@html_page
async def report_page(request: web.Request) -> web.StreamResponse:
    """``GET {base}/report``: the study's report, for the moderator and its observers."""
    who = viewer(request)
    db = request.app[SETTINGS_KEY].db
    await in_thread(request, lambda c: store.load_study(c, who.study))  # 404 for an unknown study
    html = await in_thread(request, lambda _c: _render(db, who.study, who.base))
    # The report is self-contained: no scripts, styles inline, nothing fetched.
    return web.Response(text=html, content_type="text/html", headers={
        "Cache-Control": "no-store",
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
    })  # fmt: skip


def add_routes(app: web.Application) -> None:
    """Register the report page for the moderator and for observer links."""
    for base in ("/studies/{study}", "/observe/{study}/{key}"):
        app.router.add_get(base + "/report", report_page)
