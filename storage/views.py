"""Views for the analysts' common questions (SPEC 10). Plain SQL over the lake's tables."""

from __future__ import annotations

VIEWS: dict[str, str] = {
    # Utilisation per node: how many numbers the node holds in each status.
    "utilisation": """
        SELECT hierarchy,
               count(*) AS numbers,
               count(*) FILTER (WHERE status = 'Used') AS used,
               count(*) FILTER (WHERE status = 'Used-Utility') AS used_utility,
               count(*) FILTER (WHERE status = 'Available') AS available,
               count(*) FILTER (WHERE status = 'Cooling') AS cooling,
               count(*) FILTER (WHERE status = 'Reserved') AS reserved,
               round(100.0 * count(*) FILTER (WHERE status IN ('Used', 'Used-Utility')) / count(*), 1)
                   AS used_percent
        FROM number_inventory GROUP BY hierarchy""",
    # Numbers in cooling, soonest release first; filter on days_left for "the next N days".
    "cooling_releases": """
        SELECT number, hierarchy, vendor, release_date, release_date - current_date AS days_left
        FROM number_inventory WHERE status = 'Cooling'""",
    # What each audit changed, by kind of change.
    "changes_by_audit": """
        SELECT r.audit_id, r.customer, r.mode, r.as_of, r.finished_at, c.change, count(*) AS entries
        FROM number_changes c JOIN audit_runs r USING (audit_id)
        GROUP BY ALL""",
    # Free numbers per node; filter `WHERE available < N` for nodes running short.
    "free_numbers": """
        SELECT h.path AS hierarchy, h.kind,
               count(i.number) FILTER (WHERE i.status = 'Available') AS available
        FROM hierarchy h LEFT JOIN number_inventory i ON i.hierarchy = h.path
        GROUP BY ALL""",
}
