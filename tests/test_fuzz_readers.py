"""Mutation fuzzing of every reader format, bounded (issue 19, item 6).

A fixed number of mutants per run (reproducible: the seed is fixed), so CI time stays bounded;
bench/fuzz_readers.py runs the same fuzzer for as many mutants as a release wants.
"""

from __future__ import annotations

import random

import pytest

from qc.synth.fuzz import FORMAT_FILES, FuzzTally, check_mutant, mutants, seeds

MUTANTS = 240  # 40 per format


@pytest.fixture(scope="module")
def seed_files() -> dict[str, bytes]:
    return seeds()


def test_every_seed_is_read_whole(tmp_path, seed_files):
    for fmt, data in seed_files.items():
        assert check_mutant(fmt, data, tmp_path) == [], fmt


def test_mutants_of_every_format_raise_nothing_and_account_for_every_record(tmp_path, seed_files):
    tally = FuzzTally()
    for n, (fmt, data) in enumerate(mutants(MUTANTS, seed=19, seed_files=seed_files)):
        tally.add(n, fmt, check_mutant(fmt, data, tmp_path))
    assert tally.by_format == {fmt: MUTANTS // len(FORMAT_FILES) for fmt in FORMAT_FILES}
    assert tally.problems == []


def test_the_fuzzer_finds_a_reader_that_loses_a_record(tmp_path, seed_files, monkeypatch):
    """The check can fail: a reader that drops a record without counting it is caught."""
    import qc.readers.files as files

    real = files.validated

    def lossy(items, path, resolved, outcome):
        for n, candidate in enumerate(real(items, path, resolved, outcome)):
            if n == 1:
                outcome.report.accepted -= 1  # dropped and not counted
                continue
            yield candidate

    monkeypatch.setattr(files, "validated", lossy)
    found = check_mutant("jsonl", seed_files["jsonl"], tmp_path)
    assert any("read" in p and "!= accepted" in p for p in found)


def test_mutation_changes_the_bytes(seed_files):
    rng = random.Random(5)
    for fmt, data in seed_files.items():
        assert any(mutate_once(fmt, data, rng) != data for _ in range(5)), fmt


def mutate_once(fmt: str, data: bytes, rng: random.Random) -> bytes:
    from qc.synth.fuzz import mutate

    return mutate(fmt, data, rng)
