"""Input rows checked: parsed, their labels resolved, and the rows that cannot be sent collected.

The one place where the archive operators, the mirror operators and the archived-sensor turn user
rows into removals, and a restore its create rows into association types (each row numbered from
1), so that a row accepted by one is accepted by all and a rejection reads the same everywhere. No
Airflow import.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import count
from typing import Any

from airflow_provider_hubspot_assoc.label_resolver import LabelResolver, needs_definitions
from airflow_provider_hubspot_assoc.row_parser import Rejection, Removal, RowParser

# Rows named in one error message; the rest are counted ("and 480 more"), and listed in the result.
MAX_ROWS_IN_MESSAGE = 20

# A row number and what the row is: its removals, or why it cannot be sent as a whole. A restore's
# row may hold rejections among its removals: each of its types stands on its own (``check_types``).
Checked = Sequence[Removal | Rejection] | Rejection
CheckedRow = tuple[int, Checked]
# What the run's pipeline reads, a row at a time: (number, from id, to id, None) for a row of one
# plain pair (``RowParser.plain_ids``: nothing else is built for it; ``KeptRows``: any row checked
# into one plain removal), else (number, 0, 0, checked).
Entry = tuple[int, int, int, Checked | None]


def check_rows(
    rows: Iterable[Any], parser: RowParser, resolver: LabelResolver | None = None
) -> Iterator[tuple[int, list[Removal] | Rejection]]:
    """Each row with its number: its removals, or why it cannot be sent.

    With a ``resolver`` (label removals), label names and bare type ids are resolved too; a row is
    rejected as a whole, by its first rejection, when any of its removals cannot be resolved.
    Lazy: a stream of rows is checked as it is read.
    """
    for number, raw in enumerate(rows, start=1):
        yield number, check_row(raw, number, parser, resolver)


def entries(rows: Iterable[Any], parser: RowParser, resolver: LabelResolver | None = None) -> Iterator[Entry]:
    """``check_rows`` as the pipeline reads it: a row of one plain pair as its two ids (see ``Entry``)."""
    plain = _plain_reader(parser, resolver)
    for number, raw in enumerate(rows, start=1):
        ids = plain(raw)
        if ids is None:
            yield number, 0, 0, check_row(raw, number, parser, resolver)
        else:
            yield number, ids[0], ids[1], None


def entries_of(checked: Iterable[CheckedRow]) -> Iterator[Entry]:
    """Checked rows as the pipeline reads them (none taken as a plain pair)."""
    for number, parsed in checked:
        yield number, 0, 0, parsed


def _plain_reader(
    parser: RowParser, resolver: LabelResolver | None
) -> Callable[[Any], tuple[int, int] | None]:
    """What reads a row's plain pair: none is plain when labels are resolved."""
    return parser.plain_ids if resolver is None else _no_plain


def _no_plain(raw: Any) -> None:
    return None


def _drop(value: int) -> None:
    return None


def check_row(
    raw: Any, number: int, parser: RowParser, resolver: LabelResolver | None = None
) -> list[Removal] | Rejection:
    """One row, numbered ``number``: its removals, or why it cannot be sent (see ``check_rows``)."""
    if resolver is None:  # nothing to resolve: the parser's removals, or its rejection of the row
        return parser.parse(raw, number)
    resolved = check_types(raw, number, parser, resolver)
    if isinstance(resolved, Rejection):
        return resolved
    rejection = next((r for r in resolved if isinstance(r, Rejection)), None)
    return rejection or [r for r in resolved if isinstance(r, Removal)]


def check_types(
    raw: Any, number: int, parser: RowParser, resolver: LabelResolver | None = None
) -> list[Removal | Rejection] | Rejection:
    """One row parsed, each of its removals resolved on its own: a rejection stands in for each that
    cannot be. A restore sends the rest (a label whose definition was deleted since must not keep the
    association and its other labels from coming back); a row that cannot be parsed is rejected whole.
    """
    parsed = parser.parse(raw, number)
    if isinstance(parsed, Rejection):
        return parsed
    if resolver is None:
        return list(parsed)
    return [resolver.resolve(removal) for removal in parsed]


# Rows kept as they were checked (not one plain pair) before ``KeptRows`` gives up keeping them.
MAX_OTHER_ROWS_KEPT = 10_000


class KeptRows:
    """Checked rows kept from a first pass over an in-memory list, so the run does not parse them again.

    A row checked into one plain removal (no type, no label) is kept as its two ids, 16 bytes a row,
    whether ``RowParser.plain_ids`` took it or the parser (ids as text): a checked id has no leading
    zero and fits 63 bits, so its text comes back exactly. Other rows are kept as they were checked, up
    to ``max_other`` of them; past that ``complete`` is False and the rows must be checked again.
    ``entries`` gives entries that stand for the same removals as ``entries(rows)``.
    """

    def __init__(self, max_other: int = MAX_OTHER_ROWS_KEPT) -> None:
        self.max_other = max_other
        self.complete = True
        self._from = array("q")
        self._to = array("q")
        self._other: dict[int, Checked] = {}  # by row number; its ids are 0 here

    def check(
        self, rows: Iterable[Any], parser: RowParser, resolver: LabelResolver | None = None
    ) -> list[Rejection]:
        """Check and keep every row (as ``entries`` reads them); returns the rejections, in row order."""
        rejections: list[Rejection] = []
        plain = _plain_reader(parser, resolver)  # as ``entries`` reads a row
        keep_from, keep_to = self._from.append, self._to.append
        for number, raw in enumerate(rows, start=1):
            ids = plain(raw)
            if ids is not None:
                keep_from(ids[0])
                keep_to(ids[1])
                continue
            parsed = check_row(raw, number, parser, resolver)
            if type(parsed) is list and len(parsed) == 1:
                removal = parsed[0]
                if removal.type_id is None and removal.label is None and removal.category is None:
                    keep_from(int(removal.from_id))  # ids as text: the pipeline's plain pair all the same
                    keep_to(int(removal.to_id))
                    continue
            rejections += rejections_in([(number, parsed)])
            self._keep_other(number, parsed)
            if not self.complete:  # given up: the rows are still checked, for their rejections
                keep_from = keep_to = _drop
        return rejections

    def entries(self) -> Iterator[Entry]:
        """The kept rows as entries (see ``KeptRows``), as often as asked."""
        if not self.complete:
            raise RuntimeError("rows past max_other were not kept: check them again")
        other = self._other
        for number, from_id, to_id in zip(count(1), self._from, self._to):
            yield (number, from_id, to_id, None) if from_id else (number, 0, 0, other[number])

    def _keep_other(self, number: int, parsed: Checked) -> None:
        if not self.complete:
            return
        self._from.append(0)
        self._to.append(0)
        self._other[number] = parsed
        if len(self._other) > self.max_other:
            self.complete = False
            self._from, self._to, self._other = array("q"), array("q"), {}


def rejections_in(checked: Iterable[CheckedRow]) -> list[Rejection]:
    """The rejections among checked rows (their removals are not kept, nor listed)."""
    rejections: list[Rejection] = []
    for _, parsed in checked:
        if isinstance(parsed, Rejection):
            rejections.append(parsed)
            continue
        for item in parsed:  # a restore's rejected types
            if isinstance(item, Rejection):
                rejections.append(item)
    return rejections


def split_checked(
    checked: Iterable[CheckedRow],
) -> tuple[list[Removal], list[Rejection]]:
    """Every removal of the valid rows, and every rejection, each in row order."""
    removals: list[Removal] = []
    rejections: list[Rejection] = []
    for _, parsed in checked:
        for item in [parsed] if isinstance(parsed, Rejection) else parsed:
            if isinstance(item, Rejection):
                rejections.append(item)
            else:
                removals.append(item)
    return removals, rejections


def needs_label_definitions(checked: Iterable[CheckedRow]) -> bool:
    """Some valid row names a label by name, or a type id without its category (see ``needs_definitions``)."""
    return any(needs_definitions(removal) for removal in split_checked(checked)[0])


def rejections_text(rejections: Sequence[Rejection]) -> str:
    """``row 2, from_id: ...; row 7, label: ...``: the first ``MAX_ROWS_IN_MESSAGE``, the rest counted."""
    text = "; ".join(str(rejection) for rejection in rejections[:MAX_ROWS_IN_MESSAGE])
    more = len(rejections) - MAX_ROWS_IN_MESSAGE
    return f"{text}; and {more} more" if more > 0 else text
