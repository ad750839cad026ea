"""``uxlab simulate``: realistic participants sent through the real HTTP API.

:func:`generate` is pure: from a study, a count and a seed it makes each
session's snippet batches (page loads, clicks with coordinates and
interactive flags, misclicks, rage clicks, form errors, scrolls, JS errors)
and the moderator's batches (task start/end with outcomes, error markers,
notes, and every questionnaire the study asks: SEQ after each task, SUS,
UMUX-Lite and NPS after the session), with log-normal task times. The first variant is the
baseline; every later one is made better (faster, fewer misclicks and
detours, more successes) unless ``same`` is set. :func:`send` posts them as
the snippet and the console would. The same seed gives the same data.

Simulated sessions happened in the past (they end before the run starts), on
clocks that are a few seconds off, and their batches are sent now with
``sent`` read from those same clocks, so the collector's clock correction
puts every event back where it happened.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from recorder.errors import UxlabError
from recorder.settings import db_path
from recorder.storage import store
from recorder.wire.studyfile import Study, Task, parse_study

BATCH_EVENTS = 50
CONCURRENCY = 8


@dataclass(frozen=True)
class Profile:
    """How a variant behaves: the knobs that make one design better than another."""

    success: float = 0.68  # probability of success per task
    abandon: float = 0.35  # share of failures the participant gives up on
    median_s: float = 55.0  # median time on a successful task
    sigma: float = 0.45  # log-normal spread of times
    detour: float = 0.45  # probability of a wrong turn per step
    misclick: float = 0.30  # non-interactive clicks per page
    rage: float = 0.06  # a rage-click burst per page
    form_error: float = 0.45  # invalid fields on a form page
    seq_shift: float = 0.0
    sus_target: float = 62.0  # also steers UMUX-Lite and NPS answers


BASELINE = Profile()
IMPROVED = Profile(success=0.92, abandon=0.3, median_s=38.0, detour=0.15, misclick=0.08, rage=0.01,
                   form_error=0.15, seq_shift=0.8, sus_target=80.0)  # fmt: skip

ERROR_NOTES = ["looked for the cart in the footer", "typed into the search box instead", "opened the wrong menu",
               "went back to the home page", "missed the size selector", "clicked the product image"]  # fmt: skip
NOTES = ["hesitated before clicking", "read the whole page first", "commented on the colours",
         "said the label was unclear", "scrolled past the button"]  # fmt: skip


@dataclass
class SimSession:
    """One simulated sitting: who, which variant, and what the two sides sent."""

    participant: str
    variant: str
    loads: list[tuple[str, list[dict[str, Any]]]] = field(
        default_factory=list
    )  # snippet page loads
    moderator: list[dict[str, Any]] = field(default_factory=list)
    skew_ms: float = 0.0  # the participant's clock error
    truth: list[dict[str, Any]] = field(default_factory=list)  # per task: outcome and time
    number: int | None = None  # the session's number once sent


class _Walk:
    """The participant's browser during one session: page loads and their events."""

    def __init__(self, rng: random.Random, session: SimSession, base_url: str, skew: float) -> None:
        self.rng, self.session, self.base, self.skew = rng, session, base_url, skew
        self.page = "/"
        self.events: list[dict[str, Any]] = []

    def url(self, key: str) -> str:
        return self.base + key.lstrip("/")

    def emit(self, t: float, event_type: str, /, **fields: Any) -> None:
        self.events.append(
            {"seq": len(self.events), "t": round(t + self.skew, 1), "type": event_type, **fields}
        )

    def load(self, t: float, key: str) -> None:
        """A new page load: a new load id, seq from 0, a page event with its timing."""
        rng = self.rng
        self.events = []
        self.session.loads.append((f"{rng.getrandbits(64):016x}", self.events))
        self.page = key
        ttfb = rng.lognormvariate(math.log(80), 0.4)
        timing = {"ttfb": round(ttfb, 1), "dcl": round(ttfb + rng.uniform(60, 250), 1)}
        timing["load"] = round(timing["dcl"] + rng.uniform(20, 400), 1)
        self.emit(t, "page", url=self.url(key), title=label_of(key), w=1280, h=800, timing=timing)

    def click(self, t: float, sel: str, label: str, interactive: bool, x: float | None = None,
              y: float | None = None) -> None:  # fmt: skip
        rng = self.rng
        x = rng.uniform(40, 1200) if x is None else x
        y = rng.uniform(60, 2000) if y is None else y
        self.emit(t, "click", x=round(x), y=round(y), vx=round(x), vy=round(min(y, 780)), sel=sel,
                  tag="a" if interactive else "div", label=label, interactive=interactive)  # fmt: skip


def label_of(key: str) -> str:
    """A readable page or link name for a page key."""
    if key == "/":
        return "Home"
    return key.strip("/").split("/")[-1].replace("-", " ").title()


def _pages(study: Study) -> list[str]:
    keys = {"/"}
    for task in study.tasks:
        keys.update(task.expected_path)
        if "url" in task.success:
            keys.add(task.success["url"])
    return sorted(keys)


def _route(task: Task, start: str, pages: list[str], rng: random.Random) -> list[str]:
    """The pages of the shortest route from where the participant is."""
    route = list(task.expected_path) or [start]
    if "url" in task.success and route[-1] != task.success["url"]:
        route.append(task.success["url"])
    if route[0] != start:
        route.insert(0, start)
    if len(route) == 1:
        route.append(rng.choice(pages))
    return route


def _problems(task: Task) -> list[str]:
    """What the moderator writes about a wrong turn in ``task``: each task has its own few
    recurring problems (the first three times as likely as the third), so the same words come
    back across participants, as a moderator's do when several people hit one problem."""
    i = sum(map(ord, task.id)) % len(ERROR_NOTES)
    texts = ERROR_NOTES[i:] + ERROR_NOTES[:i]
    return [texts[0], texts[0], texts[0], texts[1], texts[1], texts[2]]  # as many as ERROR_NOTES


def _do_task(
    w: _Walk, task: Task, t0: float, p: Profile, pages: list[str]
) -> tuple[str, float, list[tuple[float, str]]]:
    """Walk one task from t0; return (outcome, end time, moments of user errors)."""
    rng = w.rng
    success = rng.random() < p.success
    duration = 1000.0 * rng.lognormvariate(
        math.log(p.median_s if success else p.median_s * 1.6), p.sigma
    )
    route = _route(task, w.page, pages, rng)
    steps = route[1:] if success else route[1 : max(2, len(route) - 1)]
    errors: list[tuple[float, str]] = []
    plan: list[tuple[str, bool]] = []
    for step in steps:
        if rng.random() < p.detour:
            wrong = rng.choice([k for k in pages if k not in route] or pages)
            plan.append((wrong, True))
            plan.append((w.page if not plan else plan[-2][0] if len(plan) > 1 else route[0], False))
        plan.append((step, False))
    gap = duration / (len(plan) + 1)
    t = t0
    for key, wrong_turn in plan:
        t = _browse(w, t, gap, p)
        if wrong_turn:
            errors.append((t, rng.choice(_problems(task))))
        w.click(t, f'a[href="{key}"]', label_of(key), True)
        w.load(t + rng.uniform(150, 700), key)
        t += 0.8
    t = _browse(w, t, gap * 0.6, p)
    if success and "click" in task.success:
        w.click(t, task.success["click"], "Return policy", True)
        w.emit(t + 40, "reaction", kind="mutation")  # the tab opens: not a dead click
    if success and "event" in task.success:
        if rng.random() < p.form_error:
            for field_name in rng.sample(["email", "zip", "card"], rng.randint(1, 2)):
                w.emit(
                    t,
                    "invalid",
                    sel=f"input#{field_name}",
                    kind="text",
                    msg="Please fill out this field.",
                )
                errors.append((t, f"form error: {field_name}"))
                t += rng.uniform(3000, 9000)
        w.emit(t, "submit", sel="form#checkout")
        w.emit(t + 50, "custom", name=task.success["event"], data={"total": 89.0})
    end = max(t + rng.uniform(800, 3000), t0 + duration)
    outcome = "success" if success else ("abandoned" if rng.random() < p.abandon else "failure")
    return outcome, end, errors


def _browse(w: _Walk, t: float, gap_ms: float, p: Profile) -> float:
    """Time on a page: reading, scrolling, maybe a misclick or a rage-click burst."""
    rng = w.rng
    t_end = t + max(gap_ms, 1500.0)
    t += rng.uniform(0.15, 0.4) * (t_end - t)
    w.emit(t, "scroll", depth=round(rng.uniform(20, 100)))
    if rng.random() < p.misclick:
        t += rng.uniform(500, 2500)
        w.click(t, "div.product-image", "", False)
        t += 1200.0  # nothing happens: a misclick
    if rng.random() < p.rage:
        x, y = rng.uniform(200, 900), rng.uniform(100, 600)
        for _ in range(rng.randint(3, 5)):
            t += rng.uniform(120, 400)
            w.click(
                t,
                "button.add-to-cart[disabled]",
                "Add to cart",
                False,
                x + rng.uniform(-5, 5),
                y + rng.uniform(-5, 5),
            )
        t += 1200.0
    return max(t, t_end)


def _session(
    study: Study, variant: str, participant: str, p: Profile, rng: random.Random, start_ms: float
) -> SimSession:
    session = SimSession(participant, variant, skew_ms=rng.uniform(-5000, 5000))
    walk = _Walk(rng, session, study.variant(variant).url, session.skew_ms)
    pages = _pages(study)
    mod: list[dict[str, Any]] = []

    def moderator(t: float, event_type: str, /, **fields: Any) -> None:
        mod.append({"seq": len(mod), "t": round(t, 1), "type": event_type, **fields})

    t = start_ms
    walk.load(t, "/")
    if rng.random() < 0.1:
        walk.emit(
            t + 900,
            "error",
            msg="TypeError: cart is undefined",
            src=walk.url("/app.js"),
            line=42,
            col=7,
        )
    t += rng.uniform(20_000, 60_000)  # the moderator explains the session
    for task in study.tasks:
        t += rng.uniform(4000, 15000)  # reading the task aloud
        moderator(t, "task_start", task=task.id)
        if rng.random() < 0.03:
            moderator(t + 4000, "task_end", task=task.id, outcome="skipped")
            session.truth.append({"task": task.id, "outcome": "skipped", "time_s": 4.0})
            t += 4000
            continue
        outcome, end, errors = _do_task(walk, task, t + rng.uniform(1500, 4000), p, pages)
        for when, text in errors:
            if rng.random() < 0.7:
                moderator(
                    when + rng.uniform(500, 3000), "marker", kind="error", text=text, task=task.id
                )
        if rng.random() < 0.2:
            moderator((t + end) / 2, "marker", kind="note", text=rng.choice(NOTES), task=task.id)
        if outcome != "success" and rng.random() < 0.3:
            moderator(end - 2000, "marker", kind="assist", text="pointed to the menu", task=task.id)
        mod.sort(key=lambda e: e["t"])
        moderator(end, "task_end", task=task.id, outcome=outcome)
        session.truth.append({"task": task.id, "outcome": outcome, "time_s": (end - t) / 1000.0})
        seq = rng.gauss(5.6 if outcome == "success" else 3.2, 0.9) + p.seq_shift
        rated = end + rng.uniform(3000, 8000)  # drawn even when not asked: same seed, same data
        if study.questionnaires.get("after_task") == "SEQ":
            moderator(rated, "rating", item="SEQ", task=task.id, value=min(7, max(1, round(seq))))
        t = end + 10_000
    _after_session(study, rng, p, t + 30_000, moderator)
    for i, event in enumerate(mod):
        event["seq"] = i
    session.moderator = mod
    return session


def _after_session(study: Study, rng: random.Random, p: Profile, t: float, moderator: Any) -> None:
    """Answer every after-session questionnaire the study asks, a minute apart."""
    asked = study.questionnaires.get("after_session", [])
    sus = _sus(rng, p.sus_target)  # drawn even when not asked: same seed, same data
    for i, item in enumerate(asked):
        if item == "SUS":
            moderator(t + 60_000 * i, "rating", item="SUS", values=sus)
        elif item == "UMUX-Lite":
            moderator(
                t + 60_000 * i, "rating", item="UMUX-Lite", values=_umux_lite(rng, p.sus_target)
            )
        elif item == "NPS":
            moderator(t + 60_000 * i, "rating", item="NPS", value=_nps(rng, p.sus_target))


def _umux_lite(rng: random.Random, target: float) -> list[int]:
    """Two UMUX-Lite answers (1-7) around a target score (0-100)."""
    level = min(1.0, max(0.0, rng.gauss(target, 12) / 100))
    return [min(7, max(1, round(rng.gauss(1 + 6 * level, 0.6)))) for _ in range(2)]


def _nps(rng: random.Random, target: float) -> int:
    """A likelihood-to-recommend answer (0-10) around a target score (0-100)."""
    return min(10, max(0, round(rng.gauss(target / 10, 1.8))))


def _sus(rng: random.Random, target: float) -> list[int]:
    """Ten SUS answers scattered around a target score."""
    level = min(1.0, max(0.0, rng.gauss(target, 10) / 100))
    answers = []
    for item in range(10):
        positive = item % 2 == 0
        centre = 1 + 4 * level if positive else 5 - 4 * level
        answers.append(min(5, max(1, round(rng.gauss(centre, 0.6)))))
    return answers


def generate(study: Study, participants: int, seed: int | None = None, same: bool = False,
             within: bool = False, end_ms: float | None = None) -> list[SimSession]:  # fmt: skip
    """Simulate ``participants`` people; each uses one variant (or all, with ``within``)."""
    rng = random.Random(seed)
    end_ms = time.time() * 1000.0 if end_ms is None else end_ms
    variants = [v.id for v in study.variants]
    sessions = []
    for i in range(participants):
        pid = f"P{i + 1:02}"
        order = variants[i % len(variants):] + variants[: i % len(variants)] if within else [variants[i % len(variants)]]  # fmt: skip
        for j, variant in enumerate(order):
            profile = BASELINE if same or variant == variants[0] else IMPROVED
            start = end_ms - (participants - i) * 3_600_000.0 + j * 1_200_000.0
            sessions.append(_session(study, variant, pid, profile, rng, start))
    return sessions


# -- sending ---------------------------------------------------------------------------------


def _batches(events: list[dict[str, Any]], size: int) -> list[list[dict[str, Any]]]:
    return [events[i : i + size] for i in range(0, len(events), size)]


async def send(url: str, study_id: str, token: str, sessions: list[SimSession],
               progress: Callable[[int, int], None] | None = None) -> int:  # fmt: skip
    """Post every session through the HTTP API; return the number of events accepted.

    Each session is closed once sent, as a moderator closes theirs; when the run
    stops early (an error, Ctrl-C) the sessions it opened are closed on the way out.
    ``progress(done, total)`` is called as each session is sent.
    """
    finished = [0]
    import aiohttp

    headers = {"Authorization": f"Bearer {token}"}
    limit = asyncio.Semaphore(CONCURRENCY)
    opened: set[str] = set()  # tokens of sessions opened and not closed yet
    in_flight: set[asyncio.Future[dict[str, Any]]] = set()  # requests opening a session

    async def post(
        http: aiohttp.ClientSession, path: str, doc: dict[str, Any], auth: bool
    ) -> dict[str, Any]:
        for attempt in range(8):
            async with http.post(url + path, json=doc, headers=headers if auth else None) as resp:
                body = await resp.json(content_type=None)
                if resp.status in (429, 503):
                    await asyncio.sleep(
                        float(resp.headers.get("Retry-After", "1")) * (attempt + 1) / 4
                    )
                    continue
                if resp.status >= 400:
                    raise SimulationError(f"{path}: {resp.status} {body.get('error')}")
                return dict(body)
        raise SimulationError(f"{path}: collector stayed busy")

    study_api = f"/api/v1/studies/{quote(study_id, safe='')}"

    async def open_session(http: aiohttp.ClientSession, s: SimSession) -> dict[str, Any]:
        created = await post(http, f"{study_api}/sessions",
                             {"participant": s.participant, "variant": s.variant}, True)  # fmt: skip
        opened.add(created["token"])
        return created

    async def one(http: aiohttp.ClientSession, s: SimSession) -> int:
        async with limit:
            # Opening runs to its end even when the run is cancelled meanwhile, so that
            # every session the server made is known here and can be closed.
            opening = asyncio.ensure_future(open_session(http, s))
            in_flight.add(opening)
            created = await asyncio.shield(opening)
            s.number = int(created["session"])
            accepted = 0
            for load, events in s.loads:
                for chunk in _batches(events, BATCH_EVENTS):
                    sent = time.time() * 1000.0 + s.skew_ms
                    doc = {
                        "v": 1,
                        "session": created["token"],
                        "page": load,
                        "sent": sent,
                        "events": chunk,
                    }
                    accepted += (await post(http, "/api/v1/collect", doc, False))["accepted"]
            console = f"sim-console-{created['session']}"
            for chunk in _batches(s.moderator, 20):
                doc = {"v": 1, "page": console, "sent": time.time() * 1000.0, "events": chunk}
                accepted += (
                    await post(http, f"{study_api}/sessions/{created['session']}/events", doc, True)
                )["accepted"]
            await post(http, f"{study_api}/sessions/{created['session']}/close", {}, True)
            opened.discard(created["token"])
            finished[0] += 1
            if progress is not None:
                progress(finished[0], len(sessions))
            return accepted

    async def close_left_open(http: aiohttp.ClientSession) -> None:
        await asyncio.gather(*in_flight, return_exceptions=True)
        for left in sorted(opened):
            try:
                async with http.post(f"{url}/api/v1/sessions/{left}/close", headers=headers,
                                     timeout=aiohttp.ClientTimeout(total=5)):  # fmt: skip
                    pass
            except (aiohttp.ClientError, TimeoutError):
                return  # the collector is gone: nothing more can be closed

    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        try:
            return sum(await asyncio.gather(*(one(http, s) for s in sessions)))
        finally:
            if opened or in_flight:
                await asyncio.shield(close_left_open(http))


class SimulationError(UxlabError):
    """The collector refused what the simulation sent."""


async def fetch_study(url: str, study_id: str, token: str) -> Study:
    """The study as the server has it."""
    import aiohttp

    async with (
        aiohttp.ClientSession() as http,
        http.get(
            f"{url}/api/v1/studies/{study_id}", headers={"Authorization": f"Bearer {token}"}
        ) as resp,
    ):
        body = await resp.json(content_type=None)
        if resp.status == 401:
            raise SimulationError(
                f"the server at {url} refused the moderator token: pass --db with the database "
                "that `uxlab serve` uses there, or set UXLAB_ADMIN_TOKEN to its token"
            )
        if resp.status == 404:
            raise SimulationError(
                f"{body.get('error')} on the server at {url}: load it with `uxlab study create "
                "FILE` (same --db as `uxlab serve`), or pass --url of the server that has it"
            )
        if resp.status != 200:
            raise SimulationError(f"{url}: {resp.status} {body.get('error')}")
    return parse_study(body)


def _admin_token(args: argparse.Namespace) -> str:
    token = os.environ.get("UXLAB_ADMIN_TOKEN")
    if token:
        return token
    db = db_path(args.db)
    if os.path.exists(db):
        conn = store.connect(db, readonly=True)
        try:
            token = store.meta_get(conn, "admin_token")
        finally:
            conn.close()
    if not token:
        where = f"no uxlab database at {db}" if not os.path.exists(db) else f"{db} holds no token"
        raise SimulationError(
            f"no moderator token ({where}): start `uxlab serve` first, and pass --db with the "
            "database it uses (or set UXLAB_ADMIN_TOKEN)"
        )
    return token


def _within(study: Study, asked: bool) -> bool:
    """Whether every participant uses every variant: as the study's ``design`` declares."""
    if asked and study.design != "within":
        raise SimulationError(
            f'--within: study {study.id!r} is between-subjects; add design = "within" to its '
            "study file and load it again (uxlab study create FILE), so that its participants "
            "are paired across variants"
        )
    return study.design == "within"


# -- findings: the moderator's repeated error markers grouped, as a team would ----------------
# After the sessions are sent, every error-marker text that came back across sessions becomes
# one finding (through the findings API, like the console's Findings page): its evidence is the
# markers' moments, its severity grows with the share of participants who hit it (3 major for
# half or more, 2 minor for two or more, 1 cosmetic for one), so the demo study shows findings,
# their frequencies and a problem discovery curve out of the box.


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
                    raise SimulationError(f"{path}: {resp.status} {body.get('error')}")
    return len(docs)


PROGRESS_FROM = 50  # sessions: fewer take a few seconds, more say how far they are


def _progress(total: int) -> Callable[[int, int], None] | None:
    """Say on stderr, every tenth of the sessions, how many were sent (long runs only)."""
    if total < PROGRESS_FROM:
        return None
    step = max(total // 10, 1)

    def say(done: int, total: int) -> None:
        if done % step == 0 or done == total:
            print(f"uxlab: {done}/{total} sessions sent", file=sys.stderr, flush=True)

    return say


def run_simulation(args: argparse.Namespace) -> int:
    """The ``uxlab simulate`` command."""
    import aiohttp

    if args.participants < 1:
        raise SimulationError("--participants: give at least 1")
    url = (args.url or "http://127.0.0.1:8642").rstrip("/")
    token = _admin_token(args)
    started = time.perf_counter()
    try:
        study = asyncio.run(fetch_study(url, args.study, token))
        sessions = generate(study, args.participants, args.seed, same=args.same,
                            within=_within(study, args.within))  # fmt: skip
        accepted = asyncio.run(send(url, study.id, token, sessions))
        made = 0
        if not getattr(args, "no_findings", False):
            made = asyncio.run(post_findings(url, study.id, token, finding_docs(sessions)))
    except aiohttp.ClientConnectionError:
        raise SimulationError(
            f"no uxlab server answers at {url}: start `uxlab serve` (with the same --db), "
            "or pass --url with the address it prints"
        ) from None
        sessions = generate(study, args.participants, args.seed, same=args.same, within=args.within)
        accepted = asyncio.run(send(url, study.id, token, sessions, _progress(len(sessions))))
    except aiohttp.ClientError as exc:
        raise SimulationError(
            f"the collector at {url} failed: {exc}; is it `uxlab serve`?"
        ) from None
    elapsed = time.perf_counter() - started
    variants = sorted({s.variant for s in sessions})
    print(f"simulated {args.participants} participants in {len(sessions)} sessions "
          f"(variants {', '.join(variants)}): {accepted} events accepted in {elapsed:.1f} s"
          + (f"; {made} findings grouped from repeated markers" if made else ""), file=sys.stdout)  # fmt: skip
    return 0
