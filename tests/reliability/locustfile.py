"""Locust users of the read routes, run by tests/reliability/load.py (HEALTHSCORE_LOAD_TOKEN, HEALTHSCORE_LOAD_IDS).

Every request must answer 200; anything else counts as a failure.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

from locust import FastHttpUser, constant, task

PREFIX = "/api/v1/internal/client-health"
IDS = Path(os.environ["HEALTHSCORE_LOAD_IDS"]).read_text().split()
TOKEN = os.environ["HEALTHSCORE_LOAD_TOKEN"]
SUMMARY = os.environ.get("HEALTHSCORE_LOAD_SUMMARY") == "1"  # GET /summary, where the API has it


class PortalReader(FastHttpUser):
    wait_time = constant(0)  # each user sends its next request as soon as the last one answered

    def get(self, path: str, name: str) -> None:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        with self.client.get(f"{PREFIX}{path}", name=name, headers=headers, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"status {response.status_code}")

    @task(4)
    def list_scores(self) -> None:
        query = random.choice(["limit=50", "riskLevel=HIGH&limit=50", "sortBy=overallScore&order=asc&limit=100"])
        self.get(f"/scores?{query}", "GET /scores")

    @task(4)
    def score(self) -> None:
        self.get(f"/scores/{random.choice(IDS)}", "GET /scores/{organizationId}")

    @task(2)
    def history(self) -> None:
        self.get(f"/scores/{random.choice(IDS)}/history?days=30", "GET /scores/{organizationId}/history")

    @task(2)
    def metrics(self) -> None:
        self.get(f"/metrics/{random.choice(IDS)}?metricType=LOGIN_RATE&days=30", "GET /metrics/{organizationId}")

    @task(2)
    def adoption(self) -> None:
        self.get(f"/adoption/{random.choice(IDS)}", "GET /adoption/{organizationId}")

    @task(1)
    def summary(self) -> None:
        if SUMMARY:
            self.get("/summary", "GET /summary")
