"""Who sent a file, from the names Moodle and Canvas give the files of their downloads."""

from __future__ import annotations

import pytest
from coursekit import canvas_name, moodle_path

from coursework.lms import identity, senders
from coursework.lms.senders import CANVAS, MOODLE, PLAIN, Sender


@pytest.mark.parametrize("path", [
    moodle_path("Ana García", 1234, "entrega_cap2.ipynb"),  # Moodle >= 4.1, "Download submissions in folders"
    moodle_path("Ana García", 1234, "entrega_cap2.ipynb", trailing=True),  # Moodle 3.1 to 4.0
    moodle_path("Ana García", 1234, "entrega_cap2.ipynb", folders=False),  # without folders
])
def test_moodle_names_with_and_without_folders(path):
    assert senders.moodle(path) == Sender(MOODLE, "1234", "Ana García", original="entrega_cap2.ipynb")


def test_moodle_writes_underscores_in_names_as_spaces_and_other_plugins_are_not_files():
    assert senders.moodle(moodle_path("Mary_Ann Lee", 7, "x.ipynb")).name == "Mary Ann Lee"
    assert "onlinetext" in senders.moodle("Ana_12_assignsubmission_onlinetext/onlinetext.html")
    assert "not named like Moodle" in senders.moodle("notebook.ipynb")


def test_canvas_names_carry_user_file_ids_and_the_late_marker():
    late = senders.canvas(canvas_name("García, María", 4567, 89012, "entrega_cap2.ipynb", late=True))
    assert late == Sender(CANVAS, "4567", "garcíamaría", late=True, file_id="89012",
                          original="entrega_cap2.ipynb")
    on_time = senders.canvas(canvas_name("Lee, Ann", 12, 34, "Lab_2_final.ipynb"))
    assert (on_time.key, on_time.file_id, on_time.late) == ("12", "34", False)
    assert on_time.original == "Lab_2_final.ipynb"
    assert "anonymous grading" in senders.canvas("anon_x7Kq2_LATE_5678_notebook.ipynb")
    assert "not named like Canvas" in senders.canvas("notebook (1).ipynb")


def test_plain_names_by_student_id_or_folder():
    assert senders.plain("A0001_notebook.ipynb") == Sender(PLAIN, "A0001", original="notebook.ipynb")
    assert senders.plain("a0002/Copy of notebook.ipynb") == Sender(PLAIN, "a0002",
                                                                 original="Copy of notebook.ipynb")
    for renamed in ("notebook (1).ipynb", "Copy of notebook.ipynb"):
        assert "does not start with a student id" in senders.plain(renamed)


def test_the_layout_is_what_most_paths_follow():
    moodle = [moodle_path("Ana", 1, "a.ipynb"), "Ana_1_assignsubmission_onlinetext/onlinetext.html"]
    assert senders.detect(moodle) == MOODLE
    assert senders.detect([canvas_name("Lee, Ann", 1, 2, "a.ipynb"), "readme.txt"]) == CANVAS
    assert senders.detect(["a0001_notebook.ipynb", "a0002_notebook.ipynb"]) == PLAIN


def test_student_ids_are_ascii_lower_case_and_prefer_the_institutional_id():
    assert identity.normalise("A0001") == identity.normalise("a0001") == "a0001"
    assert identity.normalise("García_López 7") == "garcia-lopez-7"
    assert identity.student_id(institutional_id="A-0001", lms_user_id="55", email="x@y.mx") == "a-0001"
    assert identity.student_id(lms_user_id="55", email="x@y.mx") == "55"
    assert identity.student_id(email="María.Pérez@Uni.MX") == "maria.perez@uni.mx"
    with pytest.raises(ValueError, match="expected an institutional id, an LMS user id or an email"):
        identity.student_id(email="  ")
