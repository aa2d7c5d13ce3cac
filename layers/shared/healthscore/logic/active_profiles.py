"""Use case: the active scoring profiles, with `default` created the first time it is needed.

`default`'s version 1 comes from HEALTH_WEIGHTS where set (section 4's weights otherwise);
from then on the database is the source of truth: a HEALTH_WEIGHTS that differs from the
stored default is reported (a warning naming the variable), not applied.

The scorer reads them through a `ProfileCache` held by its execution environment: loaded once
per batch, at most 60 s old, so a change applies to the next minute's batches and never to
half of one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Final

from aws_lambda_powertools import Logger

from healthscore.config import Settings
from healthscore.core.profile_matching import ProfileSet
from healthscore.core.profiles import DEFAULT_PROFILE_ID, default_document, same_weights
from healthscore.core.weights import HealthWeights
from healthscore.dal import profiles
from healthscore.dal.connection import DbConnection

logger = Logger(child=True)

CACHE_SECONDS: Final = 60.0
SEEDED_BY: Final = "HEALTH_WEIGHTS"  # created_by of the default profile's first version


def configured_health_weights(settings: Settings) -> HealthWeights | None:
    """HEALTH_WEIGHTS where the environment sets it; None where it is left to its default."""
    return settings.health_weights if "health_weights" in settings.model_fields_set else None


def load_active_profiles(
    conn: DbConnection, health_weights: HealthWeights | None, *, report_weights: bool = False
) -> ProfileSet:
    """The active profiles; `health_weights` is HEALTH_WEIGHTS when configured, None when not.

    With `report_weights` (an execution environment's first load), a HEALTH_WEIGHTS that differs from
    the stored default is logged as a warning.
    """
    active = profiles.active_profiles(conn)
    if not any(p.profile_id == DEFAULT_PROFILE_ID for p in active):
        profiles.save_profile(
            conn, DEFAULT_PROFILE_ID, default_document(health_weights or HealthWeights()), SEEDED_BY, only_if_new=True
        )
        active = profiles.active_profiles(conn)
    found = ProfileSet(active)
    default = found.ordered[-1]
    if report_weights and health_weights is not None and not same_weights(default, health_weights):
        logger.warning(
            "HEALTH_WEIGHTS differs from the stored default profile and is not applied: the database is the source"
            " of truth once the default profile exists (change it with PUT /profiles/default)",
            extra={"variable": "HEALTH_WEIGHTS", "defaultProfileVersion": default.version},
        )
    return found


class ProfileCache:
    """The active profiles of one execution environment, reloaded when older than `max_age` seconds."""

    def __init__(
        self,
        health_weights: HealthWeights | None,
        max_age: float = CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._health_weights = health_weights
        self._max_age = max_age
        self._clock = clock
        self._loaded: tuple[float, ProfileSet] | None = None

    def get(self, conn: DbConnection) -> ProfileSet:
        now = self._clock()
        if self._loaded is None or now - self._loaded[0] >= self._max_age:
            first = self._loaded is None
            self._loaded = (now, load_active_profiles(conn, self._health_weights, report_weights=first))
        return self._loaded[1]

    def clear(self) -> None:
        self._loaded = None
