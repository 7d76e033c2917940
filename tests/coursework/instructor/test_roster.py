"""The class list from Canvas's gradebook export, Moodle's grading worksheet or a plain CSV; stable ids."""

from __future__ import annotations

import pytest
from coursekit import canvas_gradebook_export, moodle_worksheet, write_csv

from coursework.lms import canvas
from coursework.lms.roster import Person, Roster, read_class_list


def test_canvas_gradebook_export_gives_ids_and_skips_points_possible_and_the_test_student(tmp_path):
    path = canvas_gradebook_export(tmp_path / "canvas.csv",
                                   [("García, María", 4567, "A0001", "mgarcia", "Grupo 1"),
                                    ("Lee, Ann", 12, "", "alee", "Grupo 2")],
                                   [("Capítulo 2: entropía", 901, 10.0)])
    kind, people = read_class_list(path)
    assert kind == "canvas"
    assert people == [Person("", "María García", lms_user_id="4567", institutional_id="A0001",
                             login_id="mgarcia", section="Grupo 1", sortable_name="García, María"),
                      Person("", "Ann Lee", lms_user_id="12", login_id="alee", section="Grupo 2",
                             sortable_name="Lee, Ann")]
    assert canvas.assignment_columns(path) == [
        canvas.Column("Capítulo 2: entropía (901)", "Capítulo 2: entropía", "901", 10.0)]


def test_moodle_worksheet_gives_names_and_emails(tmp_path):
    path = moodle_worksheet(tmp_path / "worksheet.csv", [(101, "Ana García", "ana@uni.mx", ""),
                                                        (102, "Luis Pérez", "luis@uni.mx", "")], maximum=10)
    kind, people = read_class_list(path)
    assert kind == "moodle"
    assert [(p.name, p.email) for p in people] == [("Ana García", "ana@uni.mx"),
                                                   ("Luis Pérez", "luis@uni.mx")]


def test_a_plain_csv_and_a_clear_error_for_anything_else(tmp_path):
    path = write_csv(tmp_path / "roster.csv", [
        ["name", "email", "lms_user_id", "institutional_id", "section"],
        ["Ana García", "ana@uni.mx", "77", "A0001", "1"]])
    assert read_class_list(path) == ("csv", [Person("", "Ana García", "ana@uni.mx", "77", "A0001",
                                                    section="1")])
    other = write_csv(tmp_path / "other.csv", [["alumno", "correo"], ["Ana", "ana@uni.mx"]])
    with pytest.raises(ValueError, match="expected a Canvas gradebook export .*; got alumno, correo in"):
        read_class_list(other)


def test_ids_are_kept_when_the_class_list_is_imported_again():
    roster = Roster()
    assert roster.merge([Person("", "Ana García", email="ana@uni.mx")]) == []
    assert list(roster.people) == ["ana@uni.mx"]
    # Later the institutional id becomes known: the id stays, the new facts are added.
    assert roster.merge([Person("", "Ana García López", email="ANA@uni.mx", institutional_id="A0001")]) == []
    assert list(roster.people) == ["ana@uni.mx"]
    assert roster.people["ana@uni.mx"].institutional_id == "A0001"
    assert roster.find("a0001") is roster.people["ana@uni.mx"] is roster.find("Ana@Uni.mx")


def test_two_people_who_would_share_an_id_are_reported_not_merged():
    roster = Roster()
    problems = roster.merge([Person("", "Ana", institutional_id="A0001", email="ana@uni.mx"),
                             Person("", "Another Ana", institutional_id="a0001", lms_user_id="9")])
    assert problems == []  # the same institutional id: the same person
    problems = roster.merge([Person("", "Bo", institutional_id="B_1", email="bo@uni.mx"),
                             Person("", "Bo Two", institutional_id="b-1", email="bo2@uni.mx")])
    assert problems == [
        "Bo Two: would get the id 'b-1' of Bo (bo@uni.mx); the two rows disagree (row skipped)"]
    assert roster.merge([Person("", "Nobody")]) == [
        "Nobody: no institutional id, LMS user id or email, so no student id can be made (row skipped)"]


def test_names_match_without_accents_case_or_canvas_squeezing():
    roster = Roster([Person("garcia", "María García", sortable_name="García, María"),
                     Person("perez", "Luis Pérez")])
    assert [p.student_id for p in roster.by_name("maria garcia")] == ["garcia"]
    assert [p.student_id for p in roster.by_name("garcíamaría")] == ["garcia"]  # as Canvas writes it
    assert roster.by_name("Ana") == []
