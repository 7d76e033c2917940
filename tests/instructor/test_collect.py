"""collect: every downloaded file is placed by its metadata, or listed with the reason it was not."""

from __future__ import annotations

import json
import os
import zipfile

import pytest
from coursekit import load, make_course

from lossfns.instructor.cli import main
from lossfns.instructor.collect import collect
from lossfns.instructor.course import Course


@pytest.fixture
def course(tmp_path):
    return Course(make_course(tmp_path / "course", ["ch1-es", "ch2-en"]))


def notebook_bytes(course, assignment, marker=""):
    notebook = load(course.solutions / assignment / f"{assignment}.ipynb")
    notebook["cells"][0]["source"] = "".join(notebook["cells"][0]["source"]) + marker
    return json.dumps(notebook).encode()


def submitted(course, student, assignment):
    return course.submitted / student / assignment / f"{assignment}.ipynb"


def test_a_renamed_download_is_placed_by_the_assignment_in_its_metadata(course, tmp_path):
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    (downloads / "ana_ch1 (1).ipynb").write_bytes(notebook_bytes(course, "ch2-en"))
    report = collect(course, downloads)
    assert report.placed == [("ana_ch1 (1).ipynb", "ana", "ch2-en")]
    assert submitted(course, "ana", "ch2-en").read_bytes() == notebook_bytes(course, "ch2-en")


def test_files_that_cannot_be_placed_are_listed_with_the_reason(course, tmp_path):
    archive = tmp_path / "subs.zip"
    unknown = json.loads(notebook_bytes(course, "ch1-es"))
    unknown["metadata"]["lossfns"]["assignment"] = "ch9-es"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("notes.pdf", b"%PDF")
        bundle.writestr("noidatall.ipynb", notebook_bytes(course, "ch1-es"))
        bundle.writestr("bob_homework.ipynb", b"{ not json")
        bundle.writestr("eve_ch1.ipynb", json.dumps(unknown))
        bundle.writestr("carl_ch1-es.ipynb", b"{ not json either")  # placed by name, graded 0 later
    report = collect(course, archive)
    reasons = dict(report.unplaced)
    assert set(reasons) == {"notes.pdf", "noidatall.ipynb", "bob_homework.ipynb", "eve_ch1.ipynb"}
    assert "not a notebook" in reasons["notes.pdf"]
    assert "student id" in reasons["noidatall.ipynb"]
    assert "not a notebook of this course" in reasons["bob_homework.ipynb"]
    assert "unknown assignment 'ch9-es'" in reasons["eve_ch1.ipynb"]
    assert report.placed == [("carl_ch1-es.ipynb", "carl", "ch1-es")]
    assert "Could not place 4 file(s)" in str(report)


def test_of_two_copies_the_newer_is_collected_and_the_older_listed(course, tmp_path):
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    old, new = downloads / "ana_first.ipynb", downloads / "ana_second.ipynb"
    old.write_bytes(notebook_bytes(course, "ch1-es", "old"))
    new.write_bytes(notebook_bytes(course, "ch1-es", "new"))
    os.utime(old, (1_000_000, 1_000_000))
    report = collect(course, downloads)
    assert submitted(course, "ana", "ch1-es").read_bytes() == notebook_bytes(course, "ch1-es", "new")
    assert [name for name, _ in report.unplaced] == ["ana_first.ipynb"]


def test_a_replaced_submission_is_archived_not_lost(course, tmp_path):
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    (downloads / "ana_x.ipynb").write_bytes(notebook_bytes(course, "ch1-es", "first"))
    collect(course, downloads)
    assert collect(course, downloads).unchanged == 1  # same file again: nothing to do
    (downloads / "ana_x.ipynb").write_bytes(notebook_bytes(course, "ch1-es", "second"))
    collect(course, downloads)
    archived = list(course.archive.rglob("*.ipynb"))
    assert [p.read_bytes() for p in archived] == [notebook_bytes(course, "ch1-es", "first")]
    assert submitted(course, "ana", "ch1-es").read_bytes() == notebook_bytes(course, "ch1-es", "second")


def test_bad_sources_and_an_empty_course_get_clear_messages(course, tmp_path, capsys):
    not_zip = tmp_path / "subs.zip"
    not_zip.write_text("hello")
    assert main(["--course", str(course.root), "collect", str(not_zip)]) == 1
    assert "not a zip file" in capsys.readouterr().err
    assert main(["--course", str(course.root), "collect", str(tmp_path / "missing")]) == 1
    assert "not found" in capsys.readouterr().err
    assert main(["--course", str(course.root), "autograde"]) == 1
    assert "found none" in capsys.readouterr().err
    assert main(["--course", str(tmp_path), "export"]) == 1
    assert "expected nbgrader_config.py" in capsys.readouterr().err
