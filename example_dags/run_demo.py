"""The README's demo: run the SQLite cleanup DAG with real Airflow against the embedded simulator.

Starts a HubSpot simulator seeded with demo data, writes the pairs to remove into a SQLite table,
runs ``hubspot_cleanup_from_sqlite`` with ``dag.test()``, and prints what was archived next to the
simulator's final association count. Exits non-zero if the two disagree.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORK = Path(os.environ.get("HUBSPOT_ASSOC_DEMO_DIR") or HERE.parent / ".demo")  # created if missing


def configure_airflow() -> None:
    """Point Airflow at a private home and at this folder, before Airflow is imported.

    The demo always uses its own home and metadata database under ``.demo/`` (or
    ``$HUBSPOT_ASSOC_DEMO_DIR``), whatever ``AIRFLOW_HOME`` the shell has, so it never touches
    a real Airflow installation.
    """
    home = WORK / "airflow"
    home.mkdir(parents=True, exist_ok=True)
    os.environ["AIRFLOW_HOME"] = str(home)
    os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{home / 'airflow.db'}"
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(HERE)
    os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")


def migrate_metadata_db() -> None:
    """What ``airflow db migrate`` does (create the tables, or upgrade them), in this process."""
    from airflow.utils.db import upgradedb

    upgradedb()


def write_pairs_table(path: Path, pairs: list[tuple[str, str]]) -> None:
    path.unlink(missing_ok=True)
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE associations_to_remove (contact_id TEXT NOT NULL, company_id TEXT NOT NULL)")
        db.executemany("INSERT INTO associations_to_remove VALUES (?, ?)", pairs)


def main() -> int:
    configure_airflow()
    migrate_metadata_db()
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    from airflow_provider_hubspot_assoc.testing import HubSpotSimulator, SimulatorConfig

    # HubSpot does not document what archiving a record it does not know does; the simulator's default
    # follows the facts file and treats it as a silent no-op. The demo shows the 207 partial-failure
    # path instead (one row names a contact HubSpot lacks and ends up "failed" with HubSpot's error),
    # so it asks for that behaviour explicitly.
    config = SimulatorConfig(seed="demo", latency_seconds=0.02, unknown_record="error")
    with HubSpotSimulator(config) as sim:
        all_pairs = sorted(sim.state.pairs("contacts", "companies"))
        churned = {f"{1001 + i}" for i in range(0, 200, 4)}  # every 4th contact left its companies
        to_remove = [pair for pair in all_pairs if pair[0] in churned]
        before = sim.state.count("contacts", "companies")
        db_path = WORK / "cleanup.db"
        # Real tables are messy: one row twice, one id that is not an id, one contact HubSpot lacks.
        messy = [to_remove[0], ("not-an-id", "5001"), ("999999", "5001")]
        write_pairs_table(db_path, to_remove + messy)
        os.environ["AIRFLOW_CONN_HUBSPOT_DEFAULT"] = json.dumps(
            {"conn_type": "hubspot", "host": sim.url, "password": sim.token}
        )
        os.environ["AIRFLOW_CONN_HUBSPOT_DEMO_SQLITE"] = json.dumps(
            {"conn_type": "sqlite", "host": str(db_path)}
        )

        sys.path.insert(0, str(HERE))
        from example_hubspot_cleanup_sqlite import hubspot_cleanup_from_sqlite_dag as dag

        run = dag.test()
        with create_session() as session:
            row = (
                session.query(XComModel)
                .filter(XComModel.run_id == run.run_id, XComModel.task_id == "archive")
                .filter(XComModel.key == "return_value")
                .one_or_none()
            )
        result = row.value if row is not None else None
        after = sim.state.count("contacts", "companies")
        remaining_listed = [pair for pair in to_remove if pair in sim.state.pairs("contacts", "companies")]

    if run.state != "success" or not isinstance(result, dict):
        print(f"\nDemo FAILED: the DAG run ended {run.state}", file=sys.stderr)
        return 1
    summary = result["summary"]
    consistent = before - summary["archived"] == after and not remaining_listed
    print("\n" + "=" * 72)
    print("HubSpot association cleanup (demo against the embedded simulator)")
    print(f"  rows in the SQLite table:          {summary['received']}")
    print(f"  archived:                          {summary['archived']}")
    print(
        f"  failed / rejected / duplicates:    {summary['failed']} / {summary['rejected']} / "
        f"{summary['duplicates']}"
    )
    print(
        f"  requests / retries / 429s:         {summary['requests']} / {summary['retries']} / "
        f"{summary['rate_limited']}"
    )
    print(f"  BatchResponse status:              {result['status']} (numErrors {result['numErrors']})")
    print(f"  contact->company associations:     {before} before, {after} after")
    print(f"  matches the simulator's state:     {'yes' if consistent else 'NO'}")
    print("=" * 72)
    return 0 if consistent else 1


if __name__ == "__main__":
    sys.exit(main())
