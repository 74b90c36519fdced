"""The provider in a real Airflow 3 deployment: api-server, scheduler, dag-processor and triggerer.

LocalExecutor, metadata and warehouse on fresh PostgreSQL databases, HubSpot simulators as
separate processes (``hubspot-assoc-sim``), everything on 127.0.0.1, every process stopped by PID.
One module fixture starts it all and triggers the example DAGs through the REST API at once; the
tests then look at one use each, while the others run: a sensor that waits (deferred) and resumes,
a DAILY-limit deferral the triggerer resumes, an archive task whose worker is SIGKILLed and whose
retry resumes, and the Test button of a ``hubspot`` connection (private app, and OAuth from the
connection form's defaults).
"""

from __future__ import annotations

import contextlib
import json
import signal
import sqlite3
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import pytest

from tests.airflow_helpers import postgres_database
from tests.e2e import hubspot
from tests.e2e.airflow_deployment import Deployment, airflow_env
from tests.e2e.hubspot import of_contacts
from tests.e2e.processes import REPO, Processes, Simulator, free_port, start_simulator, wait_for
from tests.e2e.warehouse import rows_reader, values

# A signal timeout here, not the suite's thread one: the thread's os._exit skips the teardown that
# stops the scheduler, triggerer and API server, which would be left running (no dag.test() here to
# take SIGALRM away).
pytestmark = [pytest.mark.postgres, pytest.mark.timeout(300, method="signal")]

BUCKETS = ("archived", "rejected", "failed", "duplicates", "unknown", "planned")
BILLING = 28  # the demo seed's "Billing contact" label (USER_DEFINED)
EXAMPLES = {  # dag id -> file
    "hubspot_nightly_closed_lost_cleanup": "example_hubspot_nightly_cleanup.py",
    "hubspot_warehouse_label_sync": "example_hubspot_warehouse_sync.py",
    "hubspot_backfill_contact_moves": "example_hubspot_backfill.py",
    "hubspot_warehouse_mirror": "example_hubspot_warehouse_mirror.py",
    "hubspot_cleanup_from_sqlite": "example_hubspot_cleanup_sqlite.py",
}
SIMULATORS = {  # name -> hubspot-assoc-sim options (each also gets the demo data set)
    "main": (),  # the example DAGs
    "wait": (),  # the waiting sensor
    # Days of 12 seconds, not 24 hours: long enough that Airflow has handled the deferral before the
    # trigger fires (a trigger firing within a scheduler loop or two can race Airflow's own
    # bookkeeping). They end at midnight in Tokyo on the simulator's clock (its Date header), hours
    # away from midnight on this machine's clock: only a client that reads HubSpot's clock resumes.
    "daily": ("--daily-limit", "4", "--daily-reset-seconds", "12", "--account-timezone", "Asia/Tokyo"),
    "slow": ("--latency", "0.3"),  # the task that gets killed
}
CONNECTION_EXTRAS = {"hubspot_daily": {"account_timezone": "Asia/Tokyo"}}
HUBSPOT_CONNECTIONS = {
    "hubspot_default": "main",
    "hubspot_wait": "wait",
    "hubspot_daily": "daily",
    "hubspot_slow": "slow",
}
TEST_DAGS = ("e2e_sensor_waits", "e2e_daily_limit", "e2e_kill_and_retry", "e2e_on_contact_company_changes")


@dataclass
class Setup:
    """The running deployment, its simulators and warehouse, and what each run started from."""

    airflow: Deployment
    sims: dict[str, Simulator]
    warehouse: Any  # runs SQL on the PostgreSQL warehouse
    warehouse_rows: Any  # returns the rows of a query
    sqlite_path: Path
    before: dict[str, Any] = field(default_factory=dict)
    runs: dict[str, str] = field(default_factory=dict)


def assert_buckets_add_up(summary: dict[str, Any]) -> None:
    assert summary["received"] == sum(summary[b] for b in BUCKETS), summary


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    with contextlib.ExitStack() as stack:
        # Exits run in reverse: the processes stop before their databases are dropped.
        _, metadata = stack.enter_context(postgres_database("hubspot_e2e"))
        warehouse, warehouse_conn = stack.enter_context(postgres_database("hubspot_e2e_wh"))
        root = tmp_path_factory.mktemp("deployment")
        (root / "logs").mkdir()
        processes = Processes(root / "logs")
        stack.callback(processes.stop_all)
        try:
            yield _start(root, processes, metadata, warehouse, warehouse_conn)
        except Exception:
            print(processes.tails())
            raise


def _start(root: Path, processes: Processes, metadata: str, warehouse: Any, warehouse_conn: str) -> Setup:
    dags = root / "dags"
    dags.mkdir()
    for path in [*(REPO / "example_dags" / f for f in EXAMPLES.values()), REPO / "tests/dags/deploy_dags.py"]:
        (dags / path.name).symlink_to(path)
    sims = {
        name: start_simulator(processes, f"sim-{name}", "--seed", "demo", *o)
        for name, o in SIMULATORS.items()
    }
    sqlite_path = root / "cleanup.db"
    connections = {
        "hubspot_warehouse": warehouse_conn,
        "hubspot_demo_sqlite": json.dumps({"conn_type": "sqlite", "host": str(sqlite_path)}),
    }
    for conn_id, sim in HUBSPOT_CONNECTIONS.items():
        hubspot_conn: dict[str, Any] = {
            "conn_type": "hubspot",
            "host": sims[sim].url,
            "password": sims[sim].token,
        }
        if conn_id in CONNECTION_EXTRAS:
            hubspot_conn["extra"] = CONNECTION_EXTRAS[conn_id]
        connections[conn_id] = json.dumps(hubspot_conn)
    metadata_url = f"postgresql+psycopg2://postgres@127.0.0.1:5432/{json.loads(metadata)['schema']}"
    airflow = Deployment(processes, airflow_env(root / "home", dags, metadata_url, free_port(), connections))
    airflow.start()
    setup = Setup(airflow, sims, warehouse, rows_reader(warehouse_conn), sqlite_path)
    airflow.wait_for_dags([*EXAMPLES, *TEST_DAGS])
    airflow.api("POST", "/api/v2/pools", json={"name": "hubspot_api", "slots": 1}, expect=(201,))
    _start_examples(setup)
    return setup


def _start_examples(s: Setup) -> None:
    """Write each example's warehouse tables (disjoint contacts per DAG), then trigger them all."""
    sim = s.sims["main"]
    before = s.before
    before["contacts"] = hubspot.pairs(sim)
    before["deals"] = hubspot.pairs(sim, "deals", "contacts")

    # Nightly cleanup: deals 9001-9020 are closed-lost.
    deals = [(9001 + i, "closedlost" if i < 20 else "closedwon") for i in range(60)]
    links = sorted((int(d), int(c)) for d, c in before["deals"])
    s.warehouse(
        "CREATE TABLE deals (deal_id BIGINT, stage TEXT);"
        "CREATE TABLE deal_contacts (deal_id BIGINT, contact_id BIGINT);"
        f"INSERT INTO deals VALUES {values(deals)}; INSERT INTO deal_contacts VALUES {values(links)};"
    )
    # Label sync, contacts 1001-1050: one labelled pair is marked synced already and keeps its label.
    labelled = sorted(hubspot.labelled(sim, [str(c) for c in range(1001, 1051)], BILLING))
    assert len(labelled) >= 3
    before["labelled"] = labelled
    removals = [
        (int(c), int(k), "Billing contact", "2026-11-01" if i == 0 else None)
        for i, (c, k) in enumerate(labelled)
    ]
    s.warehouse(
        "CREATE TABLE label_removals (contact_id BIGINT, company_id BIGINT, label TEXT, synced_at TEXT);"
        f"INSERT INTO label_removals VALUES {values(removals)};"
    )
    # Backfill, contacts 1051-1100: those up to 1090 moved on 28 November, the rest on the 29th.
    moves = [
        (int(c), int(k), "2026-11-28" if int(c) <= 1090 else "2026-11-29")
        for c, k in sorted(of_contacts(before["contacts"], 1051, 1100))
    ]
    s.warehouse(
        "CREATE TABLE contact_company_moves (contact_id BIGINT, company_id BIGINT, moved_at TEXT);"
        f"INSERT INTO contact_company_moves VALUES {values(moves)};"
    )
    # Mirror, contacts 1101-1150: the warehouse keeps each contact's lowest company id.
    mirrored = of_contacts(before["contacts"], 1101, 1150)
    desired = {c: min(k for c2, k in mirrored if c2 == c) for c, _ in mirrored}
    before["desired"] = {(c, k) for c, k in desired.items()}
    s.warehouse(
        "CREATE TABLE contact_companies (contact_id BIGINT, company_id BIGINT);"
        f"INSERT INTO contact_companies VALUES {values([(int(c), int(k)) for c, k in desired.items()])};"
    )
    # The demo's SQLite table, contacts 1151-1175, plus a duplicate row and an id that is not one.
    cleanup = sorted(of_contacts(before["contacts"], 1151, 1175))
    with sqlite3.connect(s.sqlite_path) as db:
        db.execute("CREATE TABLE associations_to_remove (contact_id TEXT, company_id TEXT)")
        db.executemany(
            "INSERT INTO associations_to_remove VALUES (?, ?)", [*cleanup, cleanup[0], ("x1", "5001")]
        )

    # One example at a time, and the backfill's shards one at a time (a one-slot pool): tasks that
    # finish together while emitting events through the same asset alias can make Airflow 3.3's API
    # server set one of them failed after it succeeded (a race inside Airflow, named in the README),
    # and every example touches the same asset.
    for dag_id in EXAMPLES:
        logical = "2026-11-29T00:00:00Z" if dag_id == "hubspot_backfill_contact_moves" else None
        s.runs[dag_id] = s.airflow.trigger(dag_id, logical_date=logical)
        s.airflow.wait_for_run(dag_id, s.runs[dag_id], 150)


# ------------------------------------------------------------------------------------ the tests
def test_a_killed_worker_is_retried_and_the_retry_resumes_with_one_row_per_input(setup: Setup) -> None:
    sim, airflow = setup.sims["slow"], setup.airflow
    wanted = sorted(hubspot.pairs(sim))[:150]
    rows = [(i + 1, c, k) for i, (c, k) in enumerate([*wanted, wanted[0], ("1001", "x")])]
    setup.warehouse(
        "CREATE TABLE kill_pairs (position INT, from_id TEXT, to_id TEXT);"
        f"INSERT INTO kill_pairs VALUES {values(rows)};"
    )
    dag_id = "e2e_kill_and_retry"
    run_id = airflow.trigger(dag_id)
    # 30 requests of 5 pairs, 0.3 s each: kill the worker about a third of the way.
    wait_for(
        "10 archive requests", lambda: hubspot.stats(sim)["by_endpoint"].get("archive", 0) >= 10, 90, 0.2
    )
    ti = next(t for t in airflow.task_instances(dag_id, run_id) if t["task_id"] == "archive")
    assert ti["state"] == "running" and ti["try_number"] == 1, ti
    victims = airflow.task_processes(ti["id"])
    assert len(victims) == 2, f"not a supervisor and a task process for {ti['id']}: {victims}"
    for process in victims:  # the task and its supervisor: the worker is gone, as in a crash
        process.send_signal(signal.SIGKILL)
    psutil.wait_procs(victims, timeout=10)
    sent_by_killed_try = hubspot.stats(sim)["pairs_received"]
    assert 0 < sent_by_killed_try < 150

    assert airflow.wait_for_run(dag_id, run_id, 150) == "success"
    ti = next(t for t in airflow.task_instances(dag_id, run_id) if t["task_id"] == "archive")
    assert ti["try_number"] == 2, ti  # Airflow noticed the lost worker and retried once
    summary = airflow.xcom(dag_id, run_id, "archive")["summary"]
    expected = {"received": 152, "archived": 150, "duplicates": 1, "rejected": 1, "failed": 0, "unknown": 0}
    assert {bucket: summary[bucket] for bucket in expected} == expected
    assert_buckets_add_up(summary)
    assert not set(wanted) & hubspot.pairs(sim)
    # The retry resumed from the checkpoint: only what the killed try had not confirmed came again.
    assert hubspot.stats(sim)["pairs_received"] - 150 <= sent_by_killed_try
    written = setup.warehouse_rows("SELECT row_number, outcome FROM kill_results ORDER BY row_number")
    assert [r[0] for r in written] == list(range(1, 153))  # exactly one row per input
    assert Counter(r[1] for r in written) == {"archived": 150, "duplicate": 1, "rejected": 1}


def test_a_deferred_sensor_waits_for_the_pairs_to_go_and_resumes(setup: Setup) -> None:
    sim, airflow = setup.sims["wait"], setup.airflow
    watched = sorted(of_contacts(hubspot.pairs(sim), 1001, 1003))
    dag_id = "e2e_sensor_waits"
    run_id = airflow.trigger(dag_id, conf={"pairs": [list(p) for p in watched]})
    wait_for(
        "the sensor to defer",
        lambda: airflow.task_state(dag_id, run_id, "wait_until_gone") == "deferred",
        90,
        0.5,
        lambda: json.dumps(airflow.task_instances(dag_id, run_id))[:3000],
    )
    reads_while_there = hubspot.stats(sim)["by_endpoint"]["read"]
    time.sleep(3)  # it keeps waiting while the pairs are there
    waiting = ("deferred", "scheduled", "queued", "running")  # deferred, or woken for a check
    assert airflow.task_state(dag_id, run_id, "wait_until_gone") in waiting

    hubspot.archive(sim, watched)

    state = airflow.wait_for_run(dag_id, run_id, 90)
    assert state == "success", airflow.explain(dag_id, run_id)
    assert hubspot.stats(sim)["by_endpoint"]["read"] > reads_while_there


def test_the_example_dags_end_in_the_state_they_promise(setup: Setup) -> None:
    airflow, sim, before = setup.airflow, setup.sims["main"], setup.before
    states = {dag_id: airflow.wait_for_run(dag_id, run_id, 150) for dag_id, run_id in setup.runs.items()}
    failed = [airflow.explain(d, r) for d, r in setup.runs.items() if states[d] != "success"]
    assert states == dict.fromkeys(EXAMPLES, "success"), "\n".join(failed)
    after = hubspot.pairs(sim)

    # Nightly cleanup: the closed-lost deals (9001-9020) lost their contacts, the others kept theirs.
    lost = {p for p in before["deals"] if int(p[0]) <= 9020}
    assert hubspot.pairs(sim, "deals", "contacts") == before["deals"] - lost
    # Label sync: the labels are gone, the associations stay, the pair marked synced is untouched.
    labelled = before["labelled"]
    assert hubspot.labelled(sim, [str(c) for c in range(1001, 1051)], BILLING) == {labelled[0]}
    assert of_contacts(after, 1001, 1050) == of_contacts(before["contacts"], 1001, 1050)
    # Backfill of 28 November: contacts 1051-1090 moved that day, 1091-1100 the day after.
    assert of_contacts(after, 1051, 1100) == of_contacts(before["contacts"], 1091, 1100)
    shards = [
        airflow.xcom(
            "hubspot_backfill_contact_moves", setup.runs["hubspot_backfill_contact_moves"], "archive_moves", i
        )
        for i in range(3)
    ]
    assert sum(x["summary"]["archived"] for x in shards) == len(of_contacts(before["contacts"], 1051, 1090))
    # Each mapped shard emitted its asset event (through the alias) in the deployment.
    events = airflow.api(
        "GET", "/api/v2/assets/events", params={"source_dag_id": "hubspot_backfill_contact_moves"}
    )["asset_events"]
    assert sorted(e["source_map_index"] for e in events) == [0, 1, 2]
    assert {e["uri"] for e in events} == {"hubspot://hubspot_default/associations/contacts/companies"}
    assert sorted(e["extra"]["archived"] for e in events) == sorted(x["summary"]["archived"] for x in shards)
    # Mirror: HubSpot now holds exactly the warehouse's pairs; each deletion is written back.
    assert of_contacts(after, 1101, 1150) == before["desired"]
    extra = of_contacts(before["contacts"], 1101, 1150) - before["desired"]
    written = setup.warehouse_rows("SELECT from_id, to_id, outcome FROM hubspot_sync_results")
    assert sorted(written) == sorted((c, k, "archived") for c, k in extra)
    # Demo cleanup (SQLite): its contacts' pairs are gone; the report saw the duplicate and the bad row.
    assert not of_contacts(after, 1151, 1175)
    report = airflow.xcom("hubspot_cleanup_from_sqlite", setup.runs["hubspot_cleanup_from_sqlite"], "report")
    cleanup = len(of_contacts(before["contacts"], 1151, 1175))
    assert report == {
        "received": cleanup + 2,
        "archived": cleanup,
        "failed": 0,
        "rejected": 1,
        "duplicates": 1,
    }
    # Nothing else changed.
    assert of_contacts(after, 1176, 1200) == of_contacts(before["contacts"], 1176, 1200)


def test_a_daily_limit_defers_the_task_and_the_triggerer_resumes_it(setup: Setup) -> None:
    sim, airflow = setup.sims["daily"], setup.airflow
    wanted = sorted(hubspot.pairs(sim))[:70]  # 7 requests; the daily limit is 4, days of 12 s
    dag_id = "e2e_daily_limit"
    run_id = airflow.trigger(dag_id, conf={"pairs": [list(p) for p in wanted]})
    seen: set[str] = set()

    def finished() -> bool:
        seen.add(str(airflow.task_state(dag_id, run_id, "archive")))
        return airflow.run_state(dag_id, run_id) in ("success", "failed")

    wait_for("the daily-limited run to finish", finished, 120, 0.3, airflow.processes.tails)
    state = airflow.run_state(dag_id, run_id)
    assert state == "success", airflow.explain(dag_id, run_id)
    assert "deferred" in seen, seen
    ti = next(t for t in airflow.task_instances(dag_id, run_id) if t["task_id"] == "archive")
    assert ti["try_number"] == 1  # resumed after the deferral, not retried
    summary = airflow.xcom(dag_id, run_id, "archive")["summary"]
    assert (summary["received"], summary["archived"]) == (70, 70)
    assert_buckets_add_up(summary)
    # Deferred on X-HubSpot-RateLimit-Daily-Remaining 0: the request past it was never sent.
    assert hubspot.stats(sim)["daily_limited"] == 0
    assert not set(wanted) & hubspot.pairs(sim)
    assert hubspot.stats(sim)["pairs_received"] == 70  # nothing sent twice across the deferrals


def test_the_connection_test_button_works_for_a_token_and_for_oauth_from_the_form(setup: Setup) -> None:
    airflow, sim = setup.airflow, setup.sims["main"]
    tested = airflow.api(
        "POST",
        "/api/v2/connections/test",
        json={"connection_id": "hubspot_pat", "conn_type": "hubspot", "host": sim.url, "password": sim.token},
    )
    assert tested["status"] is True, tested

    meta = next(
        h for h in airflow.api("GET", "/ui/connections/hook_meta") if h["connection_type"] == "hubspot"
    )
    # What the UI's form sends: every field at its default (none for the fields without one).
    extra = {name: spec["schema"].get("default") for name, spec in meta["extra_fields"].items()}
    extra.update(auth_type="oauth", client_id="sim-client-id", client_secret="sim-client-secret")
    extra["refresh_token"] = "sim-refresh-token"
    body = {
        "connection_id": "hubspot_oauth",
        "conn_type": "hubspot",
        "host": sim.url,
        "extra": json.dumps(extra),
    }
    airflow.api("POST", "/api/v2/connections", json=body, expect=(201,))
    tested = airflow.api("POST", "/api/v2/connections/test", json=body)
    assert tested["status"] is True, tested
    assert hubspot.stats(sim)["token_refreshes"] >= 1  # the OAuth path was taken, in the API server

    # Airflow 3.3 can also run the test on a worker (the LocalExecutor here) and poll for it.
    queued = airflow.api(
        "POST",
        "/api/v2/connections/enqueue-test",
        json={**body, "connection_id": "hubspot_oauth_worker"},
        expect=(202,),
    )
    header = {"Airflow-Connection-Test-Token": queued["token"]}
    done = wait_for(
        "the worker's connection test",
        lambda: (
            (a := airflow.api("GET", "/api/v2/connections/enqueue-test", headers=header))["state"]
            in ("success", "failed")
            and a
        ),
        60,
    )
    assert done["state"] == "success", done


def test_every_process_listens_on_loopback_only(setup: Setup) -> None:
    listening = []
    for process in setup.airflow.processes.family():
        try:
            sockets = process.net_connections(kind="inet")
        except psutil.Error:
            continue
        listening += [(process.pid, s.laddr) for s in sockets if s.status == psutil.CONN_LISTEN]
    assert listening  # the API server and the simulators at least
    assert all(address.ip == "127.0.0.1" for _, address in listening), listening
