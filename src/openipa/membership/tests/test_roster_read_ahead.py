"""The apply pass reads ahead on a second thread: order kept, errors raised in the caller, early stop clean."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from openipa.membership.services.roster import _batches, _read_ahead


def test_batches_in_order() -> None:
    got = list(_read_ahead(_batches(iter(range(10_007)), 1000)))
    assert [len(b) for b in got] == [1000] * 10 + [7]
    assert [x for b in got for x in b] == list(range(10_007))


def test_a_producer_error_is_raised_in_the_caller() -> None:
    def broken() -> Iterator[list[int]]:
        yield [1]
        raise RuntimeError("record at segment 9 failed on the second read")

    batches = _read_ahead(broken())
    assert next(batches) == [1]
    with pytest.raises(RuntimeError, match="segment 9"):
        next(batches)


def test_a_consumer_that_stops_early_stops_the_producer() -> None:
    produced: list[int] = []

    def endless() -> Iterator[list[int]]:
        n = 0
        while True:
            produced.append(n)
            yield [n]
            n += 1

    before = threading.active_count()
    for batch in _read_ahead(endless(), depth=2):
        if batch == [3]:
            break
    assert threading.active_count() == before  # the read-ahead thread has ended
    assert len(produced) < 10
