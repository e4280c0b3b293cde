"""How many worker processes a run starts: never more than the usable CPUs, and by default none for a
handful of files (starting one costs more than it saves)."""

from __future__ import annotations

import pytest

from dockrewrite import runner


@pytest.fixture
def two_cpus(monkeypatch):
    monkeypatch.setattr(runner, "usable_cpus", lambda: 2)


@pytest.mark.parametrize(
    ("requested", "files", "expected"),
    [
        (64, 10_000, 2),  # -j 64 on 2 cores used to start 64 workers (68 processes, 3.3 GB)
        (2, 10_000, 2),
        (8, 1, 1),  # never more workers than files
        (0, 10, 1),  # default: a few files are converted in this process
        (0, runner.FILES_PER_WORKER * 2 - 1, 1),
        (0, runner.FILES_PER_WORKER * 2, 2),
        (0, 10_000, 2),
        (1, 10_000, 1),
    ],
)
def test_worker_count(two_cpus, requested, files, expected):
    assert runner.worker_count(requested, files) == expected


def test_usable_cpus_is_at_least_one():
    assert runner.usable_cpus() >= 1
