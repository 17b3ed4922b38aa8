"""What the drills under load share: a steady crowd of visitors, the background worker, and the
checks every such drill ends with.

The crowd is bench/loadtest/locustfile.py's visitor made lighter, in threads of the drill's own
process (so the drill knows, to the request, what each visitor was answered and when): readers go
round the home page, the map and its layer, a need's page and popup and the transparency page;
donors pledge, by the form (the form, its CSRF token, the POST, then the private page it leads to)
and by the API in turn, each pledge under a new e-mail address and a name of its own, a third of
them onto a few small "hot" needs so that donors race for the last units. Each visitor thinks a
moment between actions, so the load is steady whatever the fault does to the answers.

The checks (`final_checks`): no need over-committed (for every need, what its holding pledges hold
is at most what it needs, and its pledged counter is exactly that), no accepted pledge lost (every
token the portal answered with, a redirect to /komitmen/<token>/ or the API's 201, or its 200 to a
request sent again with its one-time key, is in the database), and no mail sent twice (the drill's
own SMTP server received each OutboundMail at most once, and every sent one exactly once).
"""

import email
import email.policy
import itertools
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from bench import server as portal
from bench.drills.common import Answer, Browser, Cluster, Verdict, say, seed, setup_django

HOT_NEEDS, HOT_QUANTITY = 12, 8
FIELD_ERROR = re.compile(r'id="id_(\w+)-error"')


class Stage(NamedTuple):
    work: Path  # a folder of the drill's own (static files, logs)
    cluster: Cluster
    needs: list[int]
    hot: list[int]  # the last of `needs`, made small (seed_hot)


@contextmanager
def stage(needs: int = 200) -> Iterator[Stage]:
    """What every drill under load starts from: a folder and a PostgreSQL cluster of its own,
    Django set up on it, `needs` needs seeded with a few hot ones, and no connection left open
    (the servers the drill starts have theirs). Both are removed afterwards."""
    work = Path(tempfile.mkdtemp(prefix="ksbb-drill-"))
    try:
        with Cluster() as cluster:
            setup_django(cluster.url, LOG_LEVEL="WARNING")
            seeded = seed(needs)
            hot = seed_hot(seeded)
            from django.db import connections

            connections.close_all()
            yield Stage(work, cluster, seeded, hot)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def seed_hot(needs: list[int], count: int = HOT_NEEDS) -> list[int]:
    """Make the last `count` needs small (HOT_QUANTITY units), for donors to race over."""
    from needs.models import Need

    hot = needs[-count:]
    Need.objects.filter(pk__in=hot).update(quantity_needed=HOT_QUANTITY)
    return hot


@dataclass
class Attempt:
    """One donor's try at a pledge: what they sent, what they were answered."""

    email: str
    name: str
    need: int
    quantity: int
    via: str  # "form" or "api"
    answer: Answer  # the POST's, or the form's GET when there was no POST
    token: str | None = None

    @property
    def posted(self) -> bool:
        return self.answer.method == "POST"

    @property
    def outcome(self) -> str:
        a = self.answer
        if self.token:
            return "accepted"
        if not self.posted:
            if a.status == 302:  # the need no longer accepts pledges: back to its page
                return "refused (need filled)"
            return "form failed"
        if a.status == 429:
            return "rate limited"
        if self.via == "form" and a.status == 200:
            # The form again: right only when it is about the quantity (another donor took the
            # last units meanwhile); an error on any other field is the drill's own bug.
            fields = set(FIELD_ERROR.findall(a.body))
            if fields <= {"quantity"} and (fields or "form-errors" in a.body):
                return "refused (need filled)"
        if self.via == "api" and a.status == 400 and ("quantity" in a.body or "need" in a.body):
            return "refused (need filled)"
        return "failed"


def ok(answer: Answer) -> bool:
    return answer.status is not None and answer.status < 400


def describe(answers) -> str:
    """'12 × 200, 3 × 502, …' (None: no HTTP answer at all)."""
    counts = Counter()
    for a in answers:
        if a.status is None:
            counts[f"no answer ({a.error.split(':')[0]})"] += 1
        elif a.friendly_503:
            counts["503 friendly"] += 1
        else:
            counts[str(a.status)] += 1
    return ", ".join(f"{n} × {what}" for what, n in counts.most_common()) or "none"


def p95(seconds: list[float]) -> float:
    if len(seconds) < 2:
        return seconds[0] if seconds else float("nan")
    return statistics.quantiles(seconds, n=20, method="inclusive")[-1]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


class Crowd:
    """`with Crowd(urls, needs, hot) as crowd:` visitors in threads until the block ends.

    Each action goes to the next of `urls` in turn (several app servers: a donor's form may come
    from one and its POST go to another, as behind a load balancer). `crowd.mark(name)` notes when
    a phase of the drill begins; `between(a, b)` picks what ended in it."""

    def __init__(
        self,
        urls: list[str],
        needs: list[int],
        hot: list[int],
        *,
        donors: int = 3,
        readers: int = 3,
        think: tuple[float, float] = (0.2, 0.5),
        tag: str = "load",
    ) -> None:
        self.urls, self.needs, self.hot = urls, needs, hot
        self.donors, self.readers, self.think, self.tag = donors, readers, think, tag
        self.browsers: list[Browser] = []
        self.attempts: list[Attempt] = []
        self.marks: dict[str, float] = {}
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    # The visitors

    def _browser(self) -> Browser:
        browser = Browser(self.urls[0])
        with self._lock:
            self.browsers.append(browser)
        return browser

    def _server(self, browser: Browser, n: int) -> None:
        browser.base_url = self.urls[n % len(self.urls)]

    def _pause(self) -> None:
        self._stop.wait(random.uniform(*self.think))

    def _donor(self, i: int) -> None:
        browser = self._browser()
        for n in itertools.count():
            if self._stop.is_set():
                return
            self._server(browser, n + i)
            need = random.choice(self.hot if random.random() < 0.35 else self.needs)
            via = "api" if n % 2 else "form"
            attempt = pledge(browser, need, f"{self.tag}-{i}-{n}", via, random.randint(1, 3))
            with self._lock:
                self.attempts.append(attempt)
            if attempt.token and via == "form":
                browser.get(f"/komitmen/{attempt.token}/")  # where the form's redirect leads
            self._pause()

    def _reader(self, i: int) -> None:
        browser = self._browser()
        pages = itertools.cycle(
            [
                lambda: "/",
                lambda: "/peta/?category=pangan",
                lambda: "/api/v1/needs/layer/",
                lambda: f"/kebutuhan/{random.choice(self.needs)}/",
                lambda: f"/api/v1/needs/{random.choice(self.hot + self.needs)}/",
                lambda: "/transparansi/",
                lambda: f"/kebutuhan/{random.choice(self.hot)}/",
            ]
        )
        for n, page in enumerate(pages):
            if self._stop.is_set():
                return
            self._server(browser, n + i)
            browser.get(page())
            self._pause()

    def __enter__(self) -> "Crowd":
        self.marks["start"] = time.monotonic()
        for i in range(self.donors):
            self._threads.append(threading.Thread(target=self._donor, args=(i,), daemon=True))
        for i in range(self.readers):
            self._threads.append(threading.Thread(target=self._reader, args=(i,), daemon=True))
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        if not self._stop.is_set():
            self._stop.set()
            for t in self._threads:
                t.join(timeout=60)
            self.marks["end"] = time.monotonic()

    # What they saw

    def mark(self, name: str) -> float:
        self.marks[name] = time.monotonic()
        return self.marks[name]

    def in_flight(self) -> list[tuple[str, str, float]]:
        """The requests asked and not yet answered: (method, path, since)."""
        with self._lock:
            return [b.asking for b in self.browsers if b.asking]

    def answers(self, start: float = 0.0, end: float = float("inf")) -> list[Answer]:
        with self._lock:
            every = [a for b in self.browsers for a in list(b.answers)]
        return sorted((a for a in every if start <= a.ended < end), key=lambda a: a.ended)

    def failures(self, start: float = 0.0, end: float = float("inf")) -> list[Answer]:
        """The answers that were failures: not a success, nor a pledge refused for a reason of its
        own (the need filled meanwhile, the rate limit)."""
        with self._lock:
            refused = {
                id(p.answer)
                for p in self.attempts
                if p.outcome in ("refused (need filled)", "rate limited")
            }
        return [a for a in self.answers(start, end) if not ok(a) and id(a) not in refused]

    def reads(self, start: float = 0.0, end: float = float("inf")) -> list[Answer]:
        """The public pages' answers (not the pledge form, its POST or the donor's page)."""
        return [
            a
            for a in self.answers(start, end)
            if a.method == "GET" and "/dukung/" not in a.path and "/komitmen/" not in a.path
        ]

    def pledges(self, start: float = 0.0, end: float = float("inf")) -> list[Attempt]:
        with self._lock:
            return [p for p in self.attempts if start <= p.answer.ended < end]

    def posts(self, start: float = 0.0, end: float = float("inf")) -> list[Attempt]:
        return [p for p in self.pledges(start, end) if p.posted]

    @property
    def accepted(self) -> set[str]:
        with self._lock:
            return {p.token for p in self.attempts if p.token}

    def outcomes(self, start: float = 0.0, end: float = float("inf")) -> str:
        counts = Counter(p.outcome for p in self.pledges(start, end))
        return ", ".join(f"{n} {what}" for what, n in counts.most_common()) or "none"

    def pledge_p95(self, start: float, end: float) -> tuple[float, int]:
        """The 95th percentile of the pledge POSTs' answer times in [start, end), and their count."""
        times = [p.answer.ended - p.answer.started for p in self.posts(start, end)]
        return p95(times), len(times)

    def report_phases(self, phases: dict[str, tuple[float, float]]) -> None:
        """One line per phase of a drill: its pledges, their POST p95 and the pages' answers."""
        width = max(map(len, phases))
        for name, (start, end) in phases.items():
            p95_s, n = self.pledge_p95(start, end)
            say(
                f"  {name:>{width}}: pledges {self.outcomes(start, end)}; POST p95 {ms(p95_s)} "
                f"(of {n}); pages: {describe(self.reads(start, end))}"
            )


def pledge(browser: Browser, need: int, who: str, via: str, quantity: int = 1) -> Attempt:
    """One donor pledges `quantity` to `need` by the form or the API, as `who`@drill.invalid."""
    address, name = f"{who}@drill.invalid", f"Donatur {who}"
    if via == "form":
        answer = browser.pledge_by_form(need, address, quantity, name=name)
    else:
        answer = browser.pledge_by_api(need, address, quantity, name=name)
    return Attempt(address, name, need, quantity, via, answer, answer.pledge_token)


class Worker:
    """The background worker (`manage.py procrastinate worker`) with the portal's environment, in a
    process group of its own; `kill()` is a SIGKILL of the whole group."""

    def __init__(self, env: dict, work: Path, supervised: bool = False) -> None:
        """`supervised`: started again 2 s after it exits, whatever its status, as systemd's
        `Restart=always` and `RestartSec=2` do (docs/deploy.md's unit); `exits` lists them."""
        metrics = work / "worker-metrics"
        metrics.mkdir(exist_ok=True)
        self.env = {**env, "PROMETHEUS_MULTIPROC_DIR": str(metrics)}
        self.log = work / "worker.log"
        self.process: subprocess.Popen | None = None
        self.starts = 0
        self.exits: list[tuple[float, int]] = []  # (when, status) of each exit the supervisor saw
        self._stopping = threading.Event()
        if supervised:
            threading.Thread(target=self._supervise, daemon=True).start()

    def _supervise(self) -> None:
        while not self._stopping.wait(0.5):
            process = self.process
            if process is not None and process.poll() is not None:
                self.exits.append((time.monotonic(), process.returncode))
                if self._stopping.wait(2):
                    return
                self.start()

    def start(self) -> "Worker":
        with open(self.log, "a") as log:
            self.process = subprocess.Popen(
                portal.WORKER,
                cwd=portal.ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.starts += 1
        return self

    def wait_registered(self, after_id: int = 0, timeout: float = 60) -> int:
        """Wait until a worker newer than `after_id` has registered (its first heartbeat); its id."""
        from procrastinate.contrib.django.models import ProcrastinateWorker

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the worker exited with {self.process.returncode}")
            newest = (
                ProcrastinateWorker.objects.filter(id__gt=after_id)
                .order_by("-id")
                .values_list("id", flat=True)
                .first()
            )
            if newest:
                return newest
            time.sleep(0.2)
        raise RuntimeError(f"the worker did not register within {timeout:.0f} s")

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        self._stopping.set()
        if self.process is not None:
            portal.stop(self.process)

    def __enter__(self) -> "Worker":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def log_tail(self, lines: int = 15) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def wait_until(predicate, timeout: float, step: float = 0.5) -> float | None:
    """Seconds until `predicate()` held, or None when it did not within `timeout`."""
    started = time.monotonic()
    while True:
        if predicate():
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            return None
        time.sleep(step)


def warm_up(url: str, timeout: float = 60) -> float | None:
    """Wait until the portal is ready (/health/ready/: database, cache, a worker's heartbeat) and
    the transparency page has its figures (the worker counts them after a first start)."""
    browser = Browser(url)
    return wait_until(
        lambda: (
            browser.get("/health/ready/").status == 200
            and browser.get("/transparansi/").status == 200
        ),
        timeout,
    )


def unsent_mail() -> int:
    from donations.models import OutboundMail

    return OutboundMail.objects.filter(sent_at=None).count()


def _key(to: str, subject: str, body: str) -> tuple:
    return (to.strip().lower(), " ".join(subject.split()), " ".join(body.split()))


def received_per_mail(messages) -> tuple[Counter, int]:
    """How many times the SMTP server received each OutboundMail (by recipient, subject and body),
    and how many messages matched none."""
    from donations.models import OutboundMail

    index = {
        _key(to, subject, body): pk
        for pk, to, subject, body in OutboundMail.objects.values_list("pk", "to", "subject", "body")
    }
    counts, unmatched = Counter(), 0
    for m in messages:
        parsed = email.message_from_bytes(m.data, policy=email.policy.default)
        part = parsed.get_body(("plain",))
        body = part.get_content() if part is not None else ""
        for to in m.recipients:
            pk = index.get(_key(to, str(parsed["subject"] or ""), body))
            if pk is None:
                unmatched += 1
            else:
                counts[pk] += 1
    return counts, unmatched


def final_checks(
    verdict: Verdict, accepted: set[str], messages: list | None = None, drain_s: float = 0
) -> None:
    """The promises every drill under load ends with (module docstring). With `messages` (what the
    drill's SMTP servers received, a list they keep adding to), first waits up to `drain_s`
    seconds for the outbox to empty."""
    from django.db import connections
    from django.db.models import F, Q, Sum
    from django.db.models.functions import Coalesce

    from donations.models import HOLDING_STATUSES, OutboundMail, Pledge, PledgeStatus
    from donations.services import counter_mismatches
    from needs.models import Need

    connections.close_all()  # whatever the drill did to the database, a fresh connection
    holding = [*HOLDING_STATUSES, PledgeStatus.DELIVERED]
    needs = Need.objects.annotate(
        held=Coalesce(Sum("pledges__quantity", filter=Q(pledges__status__in=holding)), 0)
    )
    over = needs.filter(held__gt=F("quantity_needed")).count()
    wrong = needs.exclude(quantity_pledged=F("held")).count()
    mismatched = counter_mismatches().count()
    full = Need.objects.filter(quantity_pledged=F("quantity_needed")).count()
    verdict.check(
        over == 0 and wrong == 0 and mismatched == 0,
        "no need is over-committed, and every pledged counter is what its pledges hold",
        f"{over} over-committed, {wrong} counters differ from their pledges "
        f"({mismatched} by counter_mismatches), of {Need.objects.count()} needs; "
        f"{full} filled exactly",
    )
    found = set(Pledge.objects.filter(token__in=accepted).values_list("token", flat=True))
    verdict.check(
        bool(accepted) and found == accepted,
        "no accepted pledge is lost",
        f"{len(found)} of {len(accepted)} pledges the portal accepted are in the database",
    )
    if messages is None:
        return
    waited = wait_until(lambda: unsent_mail() == 0, drain_s) if drain_s else None
    messages = list(messages)
    counts, unmatched = received_per_mail(messages)
    mails = dict(OutboundMail.objects.values_list("pk", "sent_at"))
    twice = sum(1 for pk, n in counts.items() if n > 1)
    sent_not_received = sum(1 for pk, at in mails.items() if at and counts[pk] == 0)
    received_unsent = sum(1 for pk, at in mails.items() if not at and counts[pk])
    unsent = sum(1 for at in mails.values() if not at)
    verdict.check(
        twice == 0 and unmatched == 0 and sent_not_received == 0,
        "no mail is sent twice",
        f"{len(messages)} messages received for {len(mails)} mails in the outbox: "
        f"{twice} received more than once, {sent_not_received} marked sent but never received, "
        f"{unmatched} received that match no mail"
        + (f", {received_unsent} received though still unsent" if received_unsent else ""),
    )
    if unsent:
        _explain_unsent()
    own = list(
        OutboundMail.objects.filter(
            pledge__token__in=accepted, to=F("pledge__collaborator__email")
        ).values_list("pk", flat=True)
    )
    once = sum(1 for pk in own if counts[pk] == 1)
    verdict.check(
        unsent == 0 and once == len(own) and len(own) >= len(accepted),
        "every donor's mail went out exactly once",
        f"{once} of {len(own)} mails to the {len(accepted)} accepted donors received once; "
        f"{unsent} mails unsent"
        + (f" (the outbox emptied {waited:.1f} s after the load)" if waited is not None else ""),
    )


def _explain_unsent() -> None:
    """What became of mail still unsent at the end: each one's tries, and the jobs in the queue."""
    from procrastinate.contrib.django.models import ProcrastinateJob

    from donations.models import OutboundMail

    for mail in OutboundMail.objects.filter(sent_at=None).order_by("pk")[:5]:
        jobs = list(
            ProcrastinateJob.objects.filter(args__mail_id=mail.pk).values_list(
                "id", "status", "attempts", "worker_id"
            )
        )
        say(
            f"    unsent mail {mail.pk} (pledge {mail.pledge_id}), made {mail.created_at:%H:%M:%S}: "
            f"{mail.attempts} tries, error “{mail.last_error[:80]}”, next try "
            f"{mail.next_attempt_at and f'{mail.next_attempt_at:%H:%M:%S}'}; its jobs {jobs}"
        )
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, state, application_name, now() - xact_start, left(query, 60) "
            "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND state <> 'idle'"
        )
        for row in cursor.fetchall():
            say(f"    busy connection: {row}")
    queue = Counter(ProcrastinateJob.objects.values_list("task_name", "status"))
    say(
        "    jobs in the queue: "
        + (", ".join(f"{n} {t} {st}" for (t, st), n in queue.items()) or "none")
    )
