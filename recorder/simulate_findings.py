"""``uxlab simulate``'s findings: the moderator's repeated error markers grouped, as a team would.

After the sessions are sent, every error marker text that came back across
sessions becomes one finding (through the findings API, like the console's
Findings page): its evidence is the markers' moments, its severity grows with
the share of participants who hit it (3 major for half or more, 2 minor for
two or more, 1 cosmetic for one). So the demo study shows findings, their
frequencies and a problem discovery curve out of the box.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from recorder.simulate import SimSession


class FindingsRefused(ValueError):
    """The server refused a simulated finding (one-line message)."""


def first_event_ms(session: SimSession) -> float:
    """The session's first event on the true clock (the participant's clock corrected)."""
    snippet = [e["t"] - session.skew_ms for _, events in session.loads for e in events]
    return min([*snippet, *(e["t"] for e in session.moderator)])


def finding_docs(sessions: list[SimSession]) -> list[dict[str, Any]]:
    """One finding per error-marker text, with its moments; most participants first."""
    groups: dict[str, list[tuple[SimSession, dict[str, Any]]]] = {}
    for session in sessions:
        for event in session.moderator:
            if event["type"] == "marker" and event.get("kind") == "error" and event.get("text"):
                groups.setdefault(event["text"], []).append((session, event))
    people = len({s.participant for s in sessions})
    docs: list[dict[str, Any]] = []
    for text, moments in groups.items():
        hit = {s.participant for s, _ in moments}
        severity = 3 if len(hit) * 2 >= people else 2 if len(hit) >= 2 else 1
        docs.append({
            "title": text[0].upper() + text[1:], "severity": severity, "tags": ["simulated"],
            "tasks": sorted({e["task"] for _, e in moments if e.get("task")}),
            "evidence": [{"session": s.number, "t_s": round((e["t"] - first_event_ms(s)) / 1000.0, 1),
                          "text": text} for s, e in moments],
        })  # fmt: skip
    docs.sort(key=lambda d: (-len(d["evidence"]), str(d["title"])))
    return docs


async def post_findings(url: str, study_id: str, token: str, docs: list[dict[str, Any]]) -> int:
    """Create the findings through the API; return how many were made."""
    import aiohttp

    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as http:
        for doc in docs:
            path = f"/api/v1/studies/{study_id}/findings"
            async with http.post(url + path, json=doc, headers=headers) as resp:
                if resp.status != 201:
                    body = await resp.json(content_type=None)
                    raise FindingsRefused(f"{path}: {resp.status} {body.get('error')}")
    return len(docs)
