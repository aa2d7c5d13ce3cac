"""`organization_features`: which features a tenant has enabled and uses."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from healthscore.dal.connection import DbConnection

FEATURES_SQL = """
SELECT feature_key, enabled, is_used, last_used_at
FROM organization_features
WHERE organization_id = %s
ORDER BY feature_key
"""


def organization_features(conn: DbConnection, organization_id: UUID) -> list[dict[str, Any]]:
    """Every feature row of the tenant, by feature key."""
    return conn.execute(FEATURES_SQL, (organization_id,)).fetchall()
