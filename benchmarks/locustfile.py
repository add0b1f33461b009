"""The load that benchmarks/load.py puts on the server: signed-in people reading their pages.

Run by load.py in a virtual environment of its own (benchmarks/requirements-load.txt), never from the project's:
Locust brings the HTTP library `requests`, which the project's `requests` app would shadow. It reads the plan
(one session cookie and the pages of one person per entry) from the file in LOAD_PLAN."""

import itertools
import json
import os
import random

from locust import HttpUser, between, task

with open(os.environ["LOAD_PLAN"], encoding="utf-8") as plan_file:
    PLAN = json.load(plan_file)
_next_person = itertools.count()


class Person(HttpUser):
    # Reads a page, then reads it for one to three seconds before the next one.
    wait_time = between(1, 3)

    def on_start(self):
        self.person = PLAN[next(_next_person) % len(PLAN)]
        self.client.cookies.set(self.person["cookie_name"], self.person["cookie"])
        self.random = random.Random(self.person["cookie"])

    @task
    def read_a_page(self):
        name, url = self.random.choice(self.person["pages"])
        with self.client.get(url, name=name, allow_redirects=False, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code} for {url}")
            elif b"<html" not in response.content[:200]:
                response.failure(f"not a page: {url}")
            else:
                response.success()
