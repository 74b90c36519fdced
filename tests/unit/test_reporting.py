"""Progress lines and the closing table: what a person reads in the task log."""

from __future__ import annotations

from airflow_provider_hubspot_assoc.outcomes import Tally
from airflow_provider_hubspot_assoc.reporting import ProgressReporter, bucket_table


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_line_is_due_every_interval_and_gives_done_total_pace_and_eta() -> None:
    clock = Clock()
    reporter = ProgressReporter(10_000, rows_before=2_000, requests_before=20, every_seconds=30, clock=clock)
    assert not reporter.due()
    clock.now += 30
    assert reporter.due() and not reporter.due()  # once per interval

    tally = Tally(received=5_000, archived=4_990, failed=10)
    line = reporter.line(5_000, 5_000, tally, requests=50, allowed_per_second=19.0)

    assert "5,000/10,000 rows (50.0%), this try 3,000" in line
    assert "166.7 pairs/s, 1.0 requests/s of 19.0 allowed" in line  # 5,000 removals in 30 s; 30 requests
    assert "requests 50 (this try 30)" in line
    assert "ETA 50 s" in line  # 5,000 rows left at 100 rows/s


def test_a_stream_reports_rows_read_without_a_total() -> None:
    clock = Clock()
    reporter = ProgressReporter(None, clock=clock)
    clock.now += 10
    line = reporter.line(700, 900, Tally(received=700, archived=700), requests=7, allowed_per_second=19.0)
    assert "700 rows done, 900 read so far (total unknown: SQL)" in line
    assert "ETA unknown" in line


def test_the_closing_table_lists_every_bucket_aligned() -> None:
    tally = Tally(received=1_234, archived=1_200, failed=4, rejected=10, duplicates=20, already_absent=3)
    table = bucket_table(tally, requests=13, requests_this_try=5).splitlines()
    assert [line.split()[0] for line in table] == [
        "received",
        "archived",
        "rejected",
        "failed",
        "duplicates",
        "unknown",
        "planned",
        "requests",
    ]
    assert len({line.index(line.split()[1]) + len(line.split()[1]) for line in table}) == 1  # numbers aligned
    assert table[1].endswith("(already absent: 3)") and table[-1].endswith("(this try: 5)")
