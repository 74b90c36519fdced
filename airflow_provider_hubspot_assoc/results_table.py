"""The results table: its columns, the statement that creates it, and safe access to it.

One row per input row of a run (``writeback.py`` writes them; a restore reads them back through
``operators/restore_source.py``). No Airflow import.
"""

from __future__ import annotations

import logging
import re
from typing import Any

COLUMNS = (
    "run_id",
    "dag_id",
    "task_id",
    "map_index",
    "row_number",
    "from_id",
    "to_id",
    "association_category",
    "association_type_id",
    "label",
    "outcome",
    "error_code",
    "error_message",
    "recorded_at",
)
# An outcome record's cells (``outcomes.outcome_record``): the columns between the task instance's key
# and ``recorded_at``, which the writer adds.
RECORD_FIELDS = COLUMNS[4:13]
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}(\.[A-Za-z_][A-Za-z0-9_]{0,62})?$")
CREATE_TABLE = """CREATE TABLE IF NOT EXISTS {table} (
    run_id VARCHAR(250) NOT NULL,
    dag_id VARCHAR(250) NOT NULL,
    task_id VARCHAR(250) NOT NULL,
    map_index INTEGER NOT NULL,
    row_number BIGINT NOT NULL,
    from_id VARCHAR(32),
    to_id VARCHAR(32),
    association_category VARCHAR(32),
    association_type_id INTEGER,
    label VARCHAR(255),
    outcome VARCHAR(16) NOT NULL,
    error_code VARCHAR(64),
    error_message TEXT,
    recorded_at VARCHAR(40) NOT NULL,
    types TEXT
)"""
TYPES_COLUMN = "types"  # JSON: [{category, typeId, label}] a removal removed (a snapshot's)
# The error code of a snapshot row that records what an earlier run of a cleared task removed.
EARLIER_RUN = "earlier_run"


def check_table_name(name: str) -> str:
    """A table name (``table`` or ``schema.table``) that is safe to put in SQL text."""
    if not _IDENTIFIER.match(name):
        raise ValueError(f"results_table must be a plain table name such as 'hubspot_results', got {name!r}")
    return name


_SQL_LOG = logging.getLogger(f"{__name__}.sql")
_SQL_LOG.setLevel(logging.WARNING)


def quiet(hook: Any) -> Any:
    """``hook`` with its statement lines kept out of the task log.

    common-sql logs every statement and every insert ("Running statement", "Loaded N rows", "Done
    loading") at INFO: thousands of lines in a long run. Its warnings and errors still show.
    """
    hook._log = _SQL_LOG
    return hook
