"""The visitors of `make loadtest` (bench/loadtest/run.py starts locust with this file).

Each simulated visitor behaves like a person with a browser: lands on the home page, then, with a
think time of 1 to 3 s between actions, opens the map (with or without filters; the page then
fetches the needs layer, revalidating it with If-None-Match once it has it, and the region
boundaries once, as their Cache-Control allows), opens a need's popup or page, reads the
transparency page, and now and then pledges through the form (GET, CSRF token, POST, then the
private page it is sent to), under an e-mail address of its own.

run.py passes the data to pick from (need ids, the few "hot" needs that pledges crowd onto so
that they race for the last units, categories, kota) in KSBB_LOADTEST_DATA, and reads every
request's timing, outcome and end time back from KSBB_LOADTEST_SAMPLES when locust quits, with
the moment every user had been started. KSBB_LOADTEST_STOP_AFTER (seconds) quits that long after
the last user started, so that every load is measured for the same time whatever its ramp took.

The ceiling's visitor, BareVisitor, keeps the same think time but makes one request per action,
to the bare Django view of bench/loadtest/bare.py. The ClosedLoop classes are the same visitors
without think time: each asks again as soon as it has its answer, which saturates the server
(run.py's closed-loop levels).
"""

import json
import os
import random
import re
import time
import uuid
from http.cookiejar import DefaultCookiePolicy
from pathlib import Path
from urllib.parse import urlencode

import gevent
from locust import FastHttpUser, between, constant, events, task

_DATA_FILE = os.environ.get("KSBB_LOADTEST_DATA")  # the bare view's visitors need none
DATA = json.loads(Path(_DATA_FILE).read_text()) if _DATA_FILE else {}
# (request, milliseconds, HTTP status, succeeded, time.time() when it ended)
SAMPLES: list[tuple[str, float, int, bool, float]] = []
TIMES: dict[str, float] = {}  # started, spawned (every user started), stopped
RUNNER: dict = {}
ACCEPTED: list[str] = []  # the tokens of the pledges the portal accepted
OUTCOMES = {"pledges accepted": 0, "pledges refused (need filled)": 0, "layer 304": 0}
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
SUBMISSION = re.compile(r'name="submission" value="([^"]+)"')  # the form's one-time key
FIELD_ERROR = re.compile(r'id="id_(\w+)-error"')
STATUSES = ["open", "partly_pledged", "fully_pledged", "delivered"]


@events.request.add_listener
def _record(name, response_time, response_length, exception, response=None, **kwargs):
    status = getattr(response, "status_code", 0) or 0
    SAMPLES.append((name, round(response_time, 1), status, exception is None, time.time()))
    # What nginx in front answered from its cache (HIT, STALE, UPDATING, REVALIDATED) or not.
    if response is not None and (cached := response.headers.get("X-Cache")):
        key = f"nginx {cached.lower()}"
        OUTCOMES[key] = OUTCOMES.get(key, 0) + 1


@events.test_start.add_listener
def _started(environment, **kwargs):
    TIMES["started"] = time.time()


@events.spawning_complete.add_listener
def _spawned(user_count, **kwargs):
    if "spawned" in TIMES:
        return
    TIMES["spawned"] = time.time()
    if stop_after := float(os.environ.get("KSBB_LOADTEST_STOP_AFTER") or 0):
        gevent.spawn_later(stop_after, RUNNER["runner"].quit)


@events.init.add_listener
def _init(environment, runner=None, **kwargs):
    RUNNER["runner"] = runner


@events.quitting.add_listener
def _write(environment, **kwargs):
    TIMES["stopped"] = time.time()
    with open(os.environ["KSBB_LOADTEST_SAMPLES"], "w") as f:
        json.dump(
            {"samples": SAMPLES, "accepted": ACCEPTED, "outcomes": OUTCOMES, "times": TIMES}, f
        )


def _expect(response, *codes):
    if response.status_code in codes:
        response.success()
    else:
        response.failure(f"HTTP {response.status_code}")


class Visitor(FastHttpUser):
    wait_time = between(1, 3)

    def on_start(self):
        # The portal marks its cookies Secure (DEBUG off): in production TLS ends at the proxy and
        # the browser sends them back. Here the visitor speaks plain HTTP to nginx or gunicorn.
        self.client.cookiejar.set_policy(DefaultCookiePolicy(secure_protocols=("https", "http")))
        self.email = f"visitor-{uuid.uuid4().hex[:12]}@loadtest.invalid"
        self.etags: dict[str, str] = {}
        self.has_boundaries = False
        with self.client.get("/", name="home", catch_response=True) as r:
            _expect(r, 200)

    def _filters(self) -> dict:
        draw = random.random()
        query: dict = {}
        if draw < 0.35:
            pass  # the default view: every open need
        elif draw < 0.6:
            query["category"] = random.choice(DATA["categories"])
        elif draw < 0.8:
            query["kota"] = random.choice(DATA["kota"])
        elif draw < 0.9:
            query.update(
                category=random.choice(DATA["categories"]), kota=random.choice(DATA["kota"])
            )
        else:
            query["status"] = random.sample(STATUSES, 2)
        if random.random() < 0.15:
            query["page"] = 2
        return query

    @task(4)
    def browse_map(self):
        query = self._filters()
        qs = urlencode(query, doseq=True)
        with self.client.get(f"/peta/?{qs}", name="map page", catch_response=True) as r:
            _expect(r, 200)
        # What need-map.js fetches: the layer for the same filters (the page drops `page`).
        query.pop("page", None)
        layer = f"/api/v1/needs/layer/?{urlencode(query, doseq=True)}"
        headers = {"Accept": "application/json"}
        if layer in self.etags:
            headers["If-None-Match"] = self.etags[layer]
        with self.client.get(layer, name="map layer", headers=headers, catch_response=True) as r:
            _expect(r, 200, 304)
            if r.status_code == 304:
                OUTCOMES["layer 304"] += 1
            elif r.status_code == 200 and r.headers.get("ETag"):
                self.etags[layer] = r.headers["ETag"]
        if not self.has_boundaries:  # then fresh in the browser's cache for an hour (max-age)
            with self.client.get(
                "/api/v1/regions/?level=kelurahan&boundary=1",
                name="map boundaries",
                headers={"Accept": "application/json"},
                catch_response=True,
            ) as r:
                _expect(r, 200)
                self.has_boundaries = r.status_code == 200
        if random.random() < 0.5:  # a click on a marker
            need = random.choice(DATA["needs"])
            with self.client.get(
                f"/api/v1/needs/{need}/", name="need popup", catch_response=True
            ) as r:
                _expect(r, 200)

    @task(4)
    def need_page(self):
        need = random.choice(DATA["needs"])
        with self.client.get(f"/kebutuhan/{need}/", name="need page", catch_response=True) as r:
            _expect(r, 200)

    @task(2)
    def transparency(self):
        draw = random.random()
        query = "" if draw < 0.7 else ("?page=2" if draw < 0.85 else "?q=PT")
        with self.client.get(
            f"/transparansi/{query}", name="transparency", catch_response=True
        ) as r:
            _expect(r, 200)

    @task(1)
    def home(self):
        with self.client.get("/", name="home", catch_response=True) as r:
            _expect(r, 200)

    @task(1)
    def pledge(self):
        # Half the pledges crowd onto a few small needs, so that donors race for the last units.
        need = random.choice(DATA["hot"] if random.random() < 0.5 else DATA["needs"])
        url = f"/kebutuhan/{need}/dukung/"
        with self.client.get(
            url, name="pledge form", allow_redirects=False, catch_response=True
        ) as r:
            back = None
            if r.status_code == 302:  # the need no longer accepts pledges: back to its page
                r.success()
                OUTCOMES["pledges refused (need filled)"] += 1
                back = r.headers.get("Location", "")
            else:
                _expect(r, 200)
                match = CSRF.search(r.text or "")
                key = SUBMISSION.search(r.text or "")
                if r.status_code != 200 or not match:
                    if r.status_code == 200:
                        r.failure("no CSRF token in the form")
                    return
        if back is not None:
            # As a browser does: the need's page, which says why (a flash message). Until a page
            # shows it, its cookie sends the visitor past every shared cache.
            with self.client.get(back, name="need page", catch_response=True) as r:
                _expect(r, 200)
            return
        form = {
            "csrfmiddlewaretoken": match[1],
            "public_name": "Pengunjung Uji Beban",
            "kind": "individual",
            "email": self.email,
            "quantity": str(random.randint(1, 4)),
            "message": "",
            "show_name": "on",
            "website": "",
            "submission": key[1] if key else "",
        }
        with self.client.post(
            url,
            data=form,
            name="pledge submit",
            allow_redirects=False,
            headers={"Referer": self.host + url},
            catch_response=True,
        ) as r:
            location = r.headers.get("Location", "")
            if r.status_code == 302 and location.startswith("/komitmen/"):
                r.success()
                OUTCOMES["pledges accepted"] += 1
                ACCEPTED.append(location.strip("/").split("/")[-1])
            elif r.status_code == 200:
                # The form again. Right only when it is about the quantity: another donor took
                # the last units meanwhile; an error on any other field is the generator's bug.
                fields = set(FIELD_ERROR.findall(r.text or ""))
                if fields <= {"quantity"} and (fields or "form-errors" in (r.text or "")):
                    r.success()
                    OUTCOMES["pledges refused (need filled)"] += 1
                else:
                    r.failure(f"form refused: {sorted(fields)}")
                return
            else:
                r.failure(f"HTTP {r.status_code}")
                return
        with self.client.get(location, name="pledge page", catch_response=True) as r:
            _expect(r, 200)


class ClosedLoopVisitor(Visitor):
    """The same visitor without think time: the portal's mix at saturation."""

    wait_time = constant(0)


class BareVisitor(FastHttpUser):
    """The ceiling's visitor: the same think time, one request per action, to the bare view."""

    wait_time = between(1, 3)

    def on_start(self):
        self.act()

    @task
    def act(self):
        with self.client.get("/", name="bare view", catch_response=True) as r:
            _expect(r, 200)


class ClosedLoopBareVisitor(BareVisitor):
    """The bare view asked again as soon as it answers: the stack's saturated throughput."""

    wait_time = constant(0)
