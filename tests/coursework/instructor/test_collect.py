"""collect: every downloaded file is placed by its metadata, or listed with the reason it was not."""

from __future__ import annotations

import json
import os
import zipfile

import pytest
from coursekit import load, make_course, notebook_in

from coursework.chapters import CHAPTERS
from coursework.instructor.cli import main
from coursework.instructor.collect import collect
from coursework.instructor.course import Course

FIRST, SECOND = CHAPTERS[:2]
ES, EN = FIRST.assignment("es"), SECOND.assignment("en")  # two assignments of two chapters


@pytest.fixture
def course(tmp_path):
    return Course(make_course(tmp_path / "course", [ES, EN]))


def notebook_bytes(course, assignment, marker=""):
    notebook = load(notebook_in(course.root, "solutions", assignment))
    notebook["cells"][0]["source"] = "".join(notebook["cells"][0]["source"]) + marker
    return json.dumps(notebook).encode()


def submitted(course, student, assignment):
    return notebook_in(course.root, f"submitted/{student}", assignment)


def test_a_renamed_download_is_placed_by_the_assignment_in_its_metadata(course, tmp_path):
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    renamed = f"ana_{FIRST.id} (1).ipynb"  # named after one chapter, holding another
    (downloads / renamed).write_bytes(notebook_bytes(course, EN))
    report = collect(course, downloads)
    assert report.placed == [(renamed, "ana", EN)]
    assert submitted(course, "ana", EN).read_bytes() == notebook_bytes(course, EN)


def test_files_that_cannot_be_placed_are_listed_with_the_reason(course, tmp_path):
    archive = tmp_path / "subs.zip"
    unknown = json.loads(notebook_bytes(course, ES))
    unknown["metadata"]["lossfns"]["assignment"] = "another-course-es"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("notes.pdf", b"%PDF")
        bundle.writestr("noidatall.ipynb", notebook_bytes(course, ES))
        bundle.writestr("bob_homework.ipynb", b"{ not json")
        bundle.writestr("eve_lab.ipynb", json.dumps(unknown))
        bundle.writestr(f"carl_{ES}.ipynb", b"{ not json either")  # placed by name, graded 0 later
    report = collect(course, archive)
    reasons = dict(report.unplaced)
    assert set(reasons) == {"notes.pdf", "noidatall.ipynb", "bob_homework.ipynb", "eve_lab.ipynb"}
    assert "not a notebook" in reasons["notes.pdf"]
    assert "student id" in reasons["noidatall.ipynb"]
    assert "not a notebook of this course" in reasons["bob_homework.ipynb"]
    assert "unknown assignment 'another-course-es'" in reasons["eve_lab.ipynb"]
    assert report.placed == [(f"carl_{ES}.ipynb", "carl", ES)]
    assert "Could not place 4 file(s)" in str(report)


def test_of_two_copies_the_newer_is_collected_and_the_older_listed(course, tmp_path):
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    old, new = downloads / "ana_first.ipynb", downloads / "ana_second.ipynb"
    old.write_bytes(notebook_bytes(course, ES, "old"))
    new.write_bytes(notebook_bytes(course, ES, "new"))
    os.utime(old, (1_000_000, 1_000_000))
    report = collect(course, downloads)
    assert submitted(course, "ana", ES).read_bytes() == notebook_bytes(course, ES, "new")
    assert [name for name, _ in report.unplaced] == ["ana_first.ipynb"]


def test_a_replaced_submission_is_archived_not_lost(course, tmp_path):
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    (downloads / "ana_x.ipynb").write_bytes(notebook_bytes(course, ES, "first"))
    collect(course, downloads)
    assert collect(course, downloads).unchanged == 1  # same file again: nothing to do
    (downloads / "ana_x.ipynb").write_bytes(notebook_bytes(course, ES, "second"))
    collect(course, downloads)
    archived = list(course.archive.rglob("*.ipynb"))
    assert [p.read_bytes() for p in archived] == [notebook_bytes(course, ES, "first")]
    assert submitted(course, "ana", ES).read_bytes() == notebook_bytes(course, ES, "second")


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
