"""The day a file's name gives its clock-only times (qc.readers.timestamps.date_from_filename)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from qc.readers.timestamps import date_from_filename


@pytest.mark.parametrize(
    ("name", "day"),
    [
        ("qianniu_2026-11-24.txt", date(2026, 11, 24)),
        ("shop2088_2026-11-24.txt", date(2026, 11, 24)),  # audit 172 F6: a year-like number first
        ("店2099_20261124.csv", date(2026, 11, 24)),
        ("2026_11_24_v2.jsonl", date(2026, 11, 24)),
        ("shop2088.txt", None),
    ],
)
def test_the_day_of_a_file_name_is_found_after_a_number_that_looks_like_a_year(name, day):
    assert date_from_filename(Path(name)) == day
