"""pipeline.publish.documents: the documents drawn while the quality suites run are published
only when drawn from exactly the publication's inputs, and never left behind."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from pipeline.publish import documents, read_areas_csv
from tests.test_publish_report import COUNTS, NATIONAL_2021

F = Path(__file__).parent / "fixtures" / "publish"


def inputs(**change) -> documents.DocumentInputs:
    base = dict(
        list_year=2021,
        ruleset="2021",
        areas=read_areas_csv(F / "out_a" / "2021" / "areas.csv"),
        prev=read_areas_csv(F / "out_a" / "2020" / "areas.csv"),
        counts=COUNTS,
        national=NATIONAL_2021,
        parcels=pl.read_csv(F / "parcels_a.csv", schema_overrides={"area_id": pl.String, "matrikelnr": pl.String}),
    )
    return documents.DocumentInputs(**{**base, **change})


@pytest.fixture(autouse=True)
def nothing_prepared():
    documents.discard_all()
    yield
    documents.discard_all()


def test_prepared_documents_equal_documents_drawn_now(tmp_path):
    (tmp_path / "now").mkdir()
    documents.render(inputs(), tmp_path / "now")
    documents.prepare(inputs())
    (tmp_path / "published").mkdir()
    assert documents.take(inputs(), tmp_path / "published")
    assert (tmp_path / "published" / "report.html").read_bytes() == (tmp_path / "now" / "report.html").read_bytes()
    assert (tmp_path / "published" / "lists.xlsx").stat().st_size > 0
    assert not documents.take(inputs(), tmp_path / "published")  # taken once


@pytest.mark.parametrize(
    "change",
    [
        {"areas": read_areas_csv(F / "out_a" / "2021" / "areas.csv").with_columns(pl.col("residents") + 1)},
        {"prev": None},
        {"ruleset": "2018"},
        {"national": {**NATIONAL_2021, "conviction_threshold": 0.04}},
    ],
    ids=["areas", "prev", "ruleset", "national"],
)
def test_documents_drawn_from_other_inputs_are_not_published(tmp_path, change):
    documents.prepare(inputs())
    prepared = documents._prepared[2021][1]
    assert prepared.is_dir()
    assert not documents.take(inputs(**change), tmp_path)
    assert list(tmp_path.iterdir()) == []  # nothing moved
    assert not prepared.exists()  # and nothing left behind


def test_a_failed_preparation_leaves_nothing(tmp_path):
    bad = inputs(national={"ruleset": "2021"})  # no parameters: drawing fails
    documents.prepare(bad)
    assert 2021 not in documents._prepared
    assert not documents.take(bad, tmp_path)


def test_what_is_not_taken_is_removed_at_exit():
    documents.prepare(inputs())
    prepared = documents._prepared[2021][1]
    documents.discard_all()
    assert not prepared.exists()
