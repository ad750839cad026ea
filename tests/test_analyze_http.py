"""End to end: hand-scripted sessions over HTTP to a real ``uxlab serve``, then ``uxlab analyze``."""

from __future__ import annotations

import json
import subprocess
import time
from typing import Any

import pytest

from tests.conftest import Server, uxlab_cmd
from tests.scripted import Recorder
from tests.test_metrics import EXPECTED, STUDY, script


class HttpRecorder:
    """Sends the script as the snippet and the console would: real POSTs, real clocks.

    Events keep the script's times after ``Recorder.clock``; each batch's ``sent``
    is read from a client clock that runs ``skew`` ms off and was set back by
    one fixed shift, so the collector's correction (receive - sent, per page
    load) puts every event back on the script's timeline, give or take the
    milliseconds the request took: ``slowest`` keeps the longest round trip, the
    most a time across two page loads can be off.
    """

    def __init__(self, server: Server, study: str) -> None:
        self.server, self.study = server, study
        self.shift = time.time() * 1000.0 - Recorder.clock - 60_000.0
        self.slowest = 0.0

    def session(self, participant: str, variant: str) -> str:
        return self.server.new_session(self.study, participant, variant)

    def send(self, token: str, events: list[dict[str, Any]], page: str = "load-1", skew: float = 0.0,
             moderator: bool = False, **_: Any) -> None:  # fmt: skip
        start = time.time() * 1000.0
        sent = start - self.shift + skew
        events = [
            dict(e, seq=e.get("seq", n), t=Recorder.clock + e["t"] + skew)
            for n, e in enumerate(events)
        ]
        body = {"v": 1, "page": page, "sent": sent, "events": events}
        if moderator:
            status, answer = self.server.request("POST", f"/api/v1/sessions/{token}/events", body,
                                                 self.server.admin_token)  # fmt: skip
        else:
            status, answer = self.server.request(
                "POST", "/api/v1/collect", {**body, "session": token}
            )
        self.slowest = max(self.slowest, time.time() * 1000.0 - start)
        assert status == 200 and answer == {"accepted": len(events), "duplicates": 0}, answer

    def close(self) -> None:
        pass


def test_scripted_sessions_over_http_give_the_hand_worked_attempts(server: Server) -> None:
    study = server.load_study(STUDY)
    recorder = HttpRecorder(server, study)
    script(recorder)
    out = subprocess.run(uxlab_cmd("analyze", study, "--format", "json", "--db", str(server.db_path)),
                         capture_output=True, text=True, timeout=300)  # fmt: skip
    assert out.returncode == 0, out.stderr
    attempts = json.loads(out.stdout)["attempts"]
    expected = []
    for row in EXPECTED:
        row = dict(row)
        if row["time_s"] is not None:  # times across page loads: the requests' own milliseconds
            row["time_s"] = pytest.approx(row["time_s"], abs=recorder.slowest / 1000.0 + 0.001)
        expected.append(row)
    assert attempts == expected
