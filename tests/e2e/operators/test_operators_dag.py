"""The operators end to end: real Airflow (``dag.test()``), real HTTP to the simulator, real databases."""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_hubspot_assoc.testing import HubSpotSimulator
from tests.airflow_helpers import postgres_connection, require_postgres, run_dag, set_rows, use_simulator

BUCKETS = ("archived", "rejected", "failed", "duplicates", "planned")

pytestmark = pytest.mark.usefixtures("airflow_db")


def seed_pairs(sim: HubSpotSimulator, contacts: int, companies: int = 3) -> list[tuple[str, str]]:
    pairs = [(str(100 + c), str(5000 + k)) for c in range(contacts) for k in range(companies)]
    for from_id, to_id in pairs:
        sim.state.associate("contacts", from_id, "companies", to_id)
    return pairs


def assert_buckets_add_up(summary: dict[str, Any]) -> None:
    assert summary["received"] == sum(summary[b] for b in BUCKETS), summary


def archive_requests(sim: HubSpotSimulator) -> int:
    return sum(1 for r in sim.stats.log if r.endpoint in ("archive", "archive_labels"))


def test_xcom_rows_are_archived_and_downstream_reads_the_response(
    hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = hubspot_simulator
    pairs = seed_pairs(sim, 40)  # 120 pairs
    rows = [{"from_id": f, "to_id": t} for f, t in pairs[:100]]
    rows += [(pairs[100][0], pairs[100][1]), rows[0], {"from_id": "x1", "to_id": "5000"}]
    use_simulator(monkeypatch, sim)
    set_rows(monkeypatch, rows)

    result = run_dag("t_xcom_archive")

    assert result.state == "success"
    response = result.xcom("archive")
    summary = response["summary"]
    assert summary["received"] == 103
    assert (summary["archived"], summary["duplicates"], summary["rejected"], summary["failed"]) == (
        101,
        1,
        1,
        0,
    )
    assert_buckets_add_up(summary)
    assert response["status"] == "COMPLETE" and response["numErrors"] == 0
    assert response["rejected_rows"] == [
        {
            "row": 103,
            "field": "from_id",
            "reason": "not a HubSpot record id (a positive whole number)",
            "value": "x1",
        }
    ]
    remaining = sim.state.pairs("contacts", "companies")
    assert remaining == set(pairs[101:])
    assert summary["requests"] == archive_requests(sim) == 2  # 101 pairs in batches of 100
    assert result.xcom("downstream") == {"status": "COMPLETE", "archived": 101}


def test_the_connections_batch_size_and_concurrency_apply_when_the_task_sets_none(
    hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = hubspot_simulator
    pairs = seed_pairs(sim, 40)  # 120 pairs
    sim.reconfigure(latency_seconds=0.05)  # long enough for requests to overlap if allowed
    use_simulator(monkeypatch, sim, max_in_flight=1, batch_size=30, max_pairs_per_request=30)
    set_rows(monkeypatch, [list(p) for p in pairs])

    summary = run_dag("t_xcom_archive").xcom("archive")["summary"]

    assert summary["archived"] == 120
    assert_buckets_add_up(summary)
    sizes = [r.pairs for r in sim.stats.log if r.endpoint == "archive"]
    assert max(sizes) == 30 and sum(sizes) == 120
    assert sim.stats.peak_in_flight == 1


@pytest.mark.hubspot_simulator(unknown_record="error")  # unknown records fail with 207 (default: no-op)
def test_partial_failure_207_puts_each_row_in_its_bucket(
    hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = hubspot_simulator
    pairs = seed_pairs(sim, 10)
    unknown = [("777001", "5000"), ("100", "888001")]  # an unknown contact, an unknown company
    rows = [list(p) for p in pairs + unknown]
    use_simulator(monkeypatch, sim)
    set_rows(monkeypatch, rows)

    response = run_dag("t_xcom_archive").xcom("archive")

    summary = response["summary"]
    assert (summary["received"], summary["archived"], summary["failed"]) == (32, 30, 2)
    assert_buckets_add_up(summary)
    assert response["numErrors"] == 2
    failed = {(r["from_id"], r["to_id"]): r for r in response["failed_rows"]}
    assert set(failed) == set(unknown)
    assert failed[("777001", "5000")]["row"] == 31
    assert failed[("777001", "5000")]["error"]["category"] == "VALIDATION_ERROR"
    assert sim.state.count("contacts", "companies") == 0


@pytest.mark.hubspot_simulator(unknown_record="error")  # unknown records fail with 207 (default: no-op)
def test_failed_ratio_above_limit_fails_after_sending_everything_and_pushing_the_result(
    hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = hubspot_simulator
    pairs = seed_pairs(sim, 5)
    use_simulator(monkeypatch, sim)
    set_rows(monkeypatch, [list(p) for p in pairs] + [["777001", "5000"]])

    result = run_dag("t_xcom_archive_strict")

    assert result.task_states[("archive", -1)] == "failed"
    pushed = result.xcom("archive")
    assert (pushed["summary"]["archived"], pushed["summary"]["failed"]) == (15, 1)
    assert sim.state.count("contacts", "companies") == 0  # everything else was sent


def test_invalid_in_memory_rows_fail_before_anything_is_sent(
    hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = hubspot_simulator
    pairs = seed_pairs(sim, 5)
    use_simulator(monkeypatch, sim)
    set_rows(monkeypatch, [list(p) for p in pairs] + [["101", "-3"]])

    result = run_dag("t_xcom_archive_strict")

    assert result.task_states[("archive", -1)] == "failed"
    assert archive_requests(sim) == 0
    assert sim.state.count("contacts", "companies") == 15


def write_sqlite(path: Path, rows: list[tuple[Any, Any]]) -> None:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE pairs_to_remove (contact_id, company_id)")
        db.executemany("INSERT INTO pairs_to_remove VALUES (?, ?)", rows)


def test_sqlite_table_is_streamed_into_archive_requests(
    hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    sim = hubspot_simulator
    pairs = seed_pairs(sim, 50)  # 150 pairs
    table = [(int(f), int(t)) for f, t in pairs[:140]] + [(100, 5000), ("abc", 5001)]
    write_sqlite(tmp_path / "in.db", table)
    monkeypatch.setenv(
        "AIRFLOW_CONN_HUBSPOT_TEST_SQL", json.dumps({"conn_type": "sqlite", "host": str(tmp_path / "in.db")})
    )
    use_simulator(monkeypatch, sim)

    response = run_dag("t_sql_archive").xcom("archive")

    summary = response["summary"]
    assert (summary["received"], summary["archived"], summary["duplicates"], summary["rejected"]) == (
        142,
        140,
        1,
        1,
    )
    assert_buckets_add_up(summary)
    assert response["rejected_rows"][0]["row"] == 142
    assert sim.state.pairs("contacts", "companies") == set(pairs[140:])


def test_streamed_invalid_rows_fail_at_the_end_naming_each_row(
    hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    sim = hubspot_simulator
    pairs = seed_pairs(sim, 4)
    write_sqlite(tmp_path / "in.db", [*pairs, ("zz", "5000"), ("101", "0")])
    monkeypatch.setenv(
        "AIRFLOW_CONN_HUBSPOT_TEST_SQL", json.dumps({"conn_type": "sqlite", "host": str(tmp_path / "in.db")})
    )
    use_simulator(monkeypatch, sim)

    result = run_dag("t_sql_archive_strict")

    assert result.task_states[("archive", -1)] == "failed"
    pushed = result.xcom("archive")
    assert [r["row"] for r in pushed["rejected_rows"]] == [13, 14]
    assert [r["field"] for r in pushed["rejected_rows"]] == ["from_id", "to_id"]
    assert sim.state.count("contacts", "companies") == 0  # the valid rows were sent


@pytest.fixture
def postgres_table(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    require_postgres()
    import psycopg2

    schema = f"hubspot_test_{uuid.uuid4().hex[:8]}"
    conn = psycopg2.connect(host="127.0.0.1", port=5432, user="postgres", dbname="test")
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute(f"CREATE SCHEMA {schema}")
        cursor.execute(f"CREATE TABLE {schema}.pairs_to_remove (contact_id BIGINT, company_id TEXT)")
    monkeypatch.setenv(
        "AIRFLOW_CONN_HUBSPOT_TEST_SQL", postgres_connection(options=f"-c search_path={schema}")
    )
    try:
        yield conn, schema
    finally:
        with conn.cursor() as cursor:
            cursor.execute(f"DROP SCHEMA {schema} CASCADE")
        conn.close()


@pytest.mark.postgres
def test_postgres_table_is_streamed_with_a_server_side_cursor(
    hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch, postgres_table: Any
) -> None:
    conn, schema = postgres_table
    sim = hubspot_simulator
    pairs = seed_pairs(sim, 30)
    with conn.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {schema}.pairs_to_remove VALUES (%s, %s)",
            [(int(f), t) for f, t in pairs[:80]] + [(100, "5000"), (101, "n/a")],
        )
    use_simulator(monkeypatch, sim)

    response = run_dag("t_sql_archive").xcom("archive")

    summary = response["summary"]
    assert (summary["received"], summary["archived"], summary["duplicates"], summary["rejected"]) == (
        82,
        80,
        1,
        1,
    )
    assert_buckets_add_up(summary)
    assert sim.state.pairs("contacts", "companies") == set(pairs[80:])


@pytest.mark.postgres
def test_postgres_numeric_ids_through_a_dict_cursor(
    hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch, postgres_table: Any
) -> None:
    """NUMERIC columns arrive as Decimal, and a ``cursor`` extra makes rows dicts: both still work."""
    conn, schema = postgres_table
    sim = hubspot_simulator
    pairs = seed_pairs(sim, 5)
    with conn.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {schema}.pairs_to_remove ALTER COLUMN contact_id TYPE NUMERIC(20)")
        cursor.executemany(
            f"INSERT INTO {schema}.pairs_to_remove VALUES (%s, %s)", [(int(f), t) for f, t in pairs]
        )
    monkeypatch.setenv(
        "AIRFLOW_CONN_HUBSPOT_TEST_SQL",
        postgres_connection(options=f"-c search_path={schema}", cursor="dictcursor"),
    )
    use_simulator(monkeypatch, sim)

    response = run_dag("t_sql_archive").xcom("archive")

    assert response.get("rejected_rows") in (None, []), response["rejected_rows"][:2]
    assert (response["summary"]["received"], response["summary"]["archived"]) == (15, 15)
    assert sim.state.count("contacts", "companies") == 0


def test_mapped_over_three_chunks(
    hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = hubspot_simulator
    pairs = seed_pairs(sim, 30)  # 90 pairs
    use_simulator(monkeypatch, sim)
    set_rows(monkeypatch, [list(p) for p in pairs])

    result = run_dag("t_mapped_archive")

    assert result.state == "success"
    summaries = [result.xcom("archive", i)["summary"] for i in range(3)]
    assert [s["archived"] for s in summaries] == [30, 30, 30]
    assert sim.state.count("contacts", "companies") == 0


def test_labels_by_id_and_by_name(
    hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = hubspot_simulator
    billing = sim.state.define_label("contacts", "companies", "Billing contact", type_id=28)
    for contact in ("101", "102", "103"):
        sim.state.associate(
            "contacts", contact, "companies", "5000", ["Primary", (billing.category, billing.type_id)]
        )
    use_simulator(monkeypatch, sim)
    set_rows(
        monkeypatch,
        [
            {
                "from_id": "101",
                "to_id": "5000",
                "association_type_id": 28,
                "association_category": "USER_DEFINED",
            },
            {"from_id": "102", "to_id": "5000", "label": "billing contact"},
            [103, 5000, "Primary"],
            {"from_id": "103", "to_id": "5000", "label": "No such label"},
        ],
    )

    response = run_dag("t_labels").xcom("archive_labels")

    summary = response["summary"]
    assert (summary["received"], summary["archived"], summary["rejected"]) == (4, 3, 1)
    assert_buckets_add_up(summary)
    assert "no label named 'No such label'" in response["rejected_rows"][0]["reason"]
    unlabeled, primary = ("HUBSPOT_DEFINED", 279), ("HUBSPOT_DEFINED", 1)
    user = ("USER_DEFINED", 28)
    assert sim.state.types_of("contacts", "101", "companies", "5000") == {unlabeled, primary}
    assert sim.state.types_of("contacts", "102", "companies", "5000") == {unlabeled, primary}
    assert sim.state.types_of("contacts", "103", "companies", "5000") == {unlabeled, user}


def test_removing_the_unlabeled_type_removes_the_pair(
    hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = hubspot_simulator
    sim.state.associate("contacts", "101", "companies", "5000", ["Primary"])
    use_simulator(monkeypatch, sim)
    set_rows(monkeypatch, [[101, 5000, 279, "HUBSPOT_DEFINED"]])

    response = run_dag("t_labels").xcom("archive_labels")

    assert response["summary"]["archived"] == 1
    assert sim.state.types_of("contacts", "101", "companies", "5000") == set()
    assert sim.state.types_of("companies", "5000", "contacts", "101") == set()


def test_dry_run_sends_no_request(
    hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = hubspot_simulator
    pairs = seed_pairs(sim, 50)
    use_simulator(monkeypatch, sim)
    set_rows(monkeypatch, [list(p) for p in pairs] + [list(pairs[0]), ["0", "1"]])

    response = run_dag("t_dry_run").xcom("archive")

    summary = response["summary"]
    assert sim.stats.requests == 0
    assert (summary["planned"], summary["duplicates"], summary["rejected"], summary["archived"]) == (
        150,
        1,
        1,
        0,
    )
    assert summary["planned_requests"] == 2
    assert_buckets_add_up(summary)
    assert response["dry_run"] is True
    first = response["sample_request"]["inputs"][0]
    assert first == {"from": {"id": "100"}, "to": [{"id": "5000"}, {"id": "5001"}, {"id": "5002"}]}
    assert sim.state.count("contacts", "companies") == 150


def test_labels_dry_run_with_ids_sends_no_request(
    hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = hubspot_simulator
    use_simulator(monkeypatch, sim)
    set_rows(monkeypatch, [[101, 5000, 1, "HUBSPOT_DEFINED"], [102, 5000, 1, "HUBSPOT_DEFINED"]])

    response = run_dag("t_dry_run_labels").xcom("archive_labels")

    assert sim.stats.requests == 0
    assert response["summary"]["planned"] == 2


def test_templated_object_types(hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch) -> None:
    sim = hubspot_simulator
    pairs = seed_pairs(sim, 2)
    use_simulator(monkeypatch, sim)
    set_rows(monkeypatch, [list(p) for p in pairs])

    result = run_dag("t_templated")

    assert result.state == "success"
    assert sim.state.count("contacts", "companies") == 0


@pytest.mark.hubspot_simulator(unknown_record="error")  # unknown records fail with 207 (default: no-op)
def test_failed_and_rejected_rows_beyond_the_xcom_cap_go_to_results_path(
    hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    sim = hubspot_simulator
    pairs = seed_pairs(sim, 3)
    unknown = [[str(770000 + i), "5000"] for i in range(7)]
    invalid = [["bad", "5000"]] * 5
    use_simulator(monkeypatch, sim)
    set_rows(monkeypatch, [list(p) for p in pairs] + unknown + invalid)
    monkeypatch.setenv("AIRFLOW_VAR_HUBSPOT_RESULTS_PATH", f"file://{tmp_path}/results")

    response = run_dag("t_overflow").xcom("archive")

    summary = response["summary"]
    assert (summary["archived"], summary["failed"], summary["rejected"]) == (9, 7, 5)
    assert len(response["failed_rows"]) == 3 and len(response["errors"]) == 3
    assert response["numErrors"] == 7 and response["errorsTruncated"] == 4
    failed_file = Path(response["failed_rows_path"].removeprefix("file://"))
    rejected_file = Path(response["rejected_rows_path"].removeprefix("file://"))
    failed_lines = [json.loads(line) for line in failed_file.read_text().splitlines()]
    assert sorted(r["from_id"] for r in failed_lines) == sorted(u[0] for u in unknown)
    assert [json.loads(line)["row"] for line in rejected_file.read_text().splitlines()] == [
        17,
        18,
        19,
        20,
        21,
    ]
    assert str(tmp_path) in str(failed_file)


@pytest.mark.hubspot_simulator(unknown_record="error")  # unknown records fail with 207 (default: no-op)
def test_the_token_appears_in_no_xcom_and_no_log_line(
    hubspot_simulator: HubSpotSimulator, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    sim = hubspot_simulator
    secret = "pat-na1-7d0c9d1e-secret-token-for-leak-test"
    sim.config.tokens = {secret: next(iter(sim.config.tokens.values()))}
    pairs = seed_pairs(sim, 2)
    monkeypatch.setenv(
        "AIRFLOW_CONN_HUBSPOT_DEFAULT",
        json.dumps({"conn_type": "hubspot", "host": sim.url, "password": secret}),
    )
    set_rows(monkeypatch, [list(p) for p in pairs] + [["777001", "5000"]])

    result = run_dag("t_xcom_archive")

    assert result.xcom("archive")["summary"]["archived"] == 6
    assert secret not in json.dumps(list(result.xcoms.values()), default=str)
    out, err = capfd.readouterr()
    assert "Done: received 7" in out + err  # the task log was captured
    assert secret not in out + err
