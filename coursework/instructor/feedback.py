"""HTML feedback for each graded student, in the language of the notebook.

nbgrader writes feedback/<student>/<assignment>/<notebook>.html from the
autograded notebook; the verdicts in it are already in the notebook's
language, and so are the few headings nbgrader's template adds, translated
here for the Spanish assignments. A submission that could not be read gets a
short page saying so. Formulas render offline: the pages load the course's copy
of MathJax from feedback/_static (see ``offline_math``).
"""

from __future__ import annotations

from pathlib import Path

import nbformat

from ..chapters import parse_assignment
from .course import Course, CourseError
from .offline_math import localize
from .progress import progress

# nbgrader's feedback template speaks English; these are its words on the page.
SPANISH = {
    ">Test cell<": ">Celda de comprobación<",
    ">Student's answer<": ">Respuesta del estudiante<",
    "(Top)": "(Arriba)",
    ">Comments:<": ">Comentarios:<",
    "Score:": "Puntaje:",
    " (Score: ": " (Puntaje: ",
    "Grade cell:": "Celda calificada:",
    ">Comment<": ">Comentario<",
    "No response.": "Sin comentarios.",
    ">Written response<": ">Respuesta escrita<",
}
UNREADABLE = {
    "es": ("Tu entrega no se pudo leer", ("El archivo entregado no es un cuaderno válido, así que esta tarea "
           "quedó con 0 puntos. Vuelve a descargar el cuaderno desde Jupyter (File → Download) y entrégalo "
           "de nuevo, o habla con tu docente.")),
    "en": ("Your submission could not be read", ("The file you handed in is not a valid notebook, so this "
           "assignment scored 0. Download the notebook from Jupyter again (File → Download) and hand it in "
           "again, or talk to your instructor.")),
}


def feedback(course: Course, assignment: str) -> list[Path]:
    """Write the feedback of every graded student of ``assignment``; return the files.

    A student whose submission is not a readable notebook gets a page saying so; one not
    graded yet (collected after the last autograde) gets nothing and is reported.
    """
    _, language = parse_assignment(course.check_released(assignment))
    notebook = course.notebook_name(assignment)
    name = Path(notebook).with_suffix(".html").name
    students = course.submissions(assignment)
    written, waiting = [], []
    for student in progress(students, f"feedback {assignment}"):
        target = course.feedback / student / assignment / name
        if (course.autograded / student / assignment / notebook).is_file():
            result = course.api.generate_feedback(assignment, student, force=True)
            if not result["success"]:
                raise CourseError(f"nbgrader could not write the feedback of {student}:\n"
                                   f"{result.get('error', '')[-2000:]}")
            localize(target, course.feedback)
            if language == "es":
                _translate(target)
            written.append(target)
        elif _unreadable(course.submitted / student / assignment / notebook):
            _write_unreadable(target, language)
            written.append(target)
        else:
            waiting.append(student)
    if waiting:
        print(f"{assignment}: not autograded yet, so no feedback for: {', '.join(waiting)} "
              "(run make autograde)")
    return written


def _unreadable(path: Path) -> bool:
    try:
        nbformat.read(path, as_version=4)
    except Exception:  # noqa: BLE001 (whatever nbformat cannot read)
        return True
    return False


def _translate(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    for english, spanish in SPANISH.items():
        text = text.replace(english, spanish)
    path.write_text(text.replace('<html lang="en">', '<html lang="es">'), encoding="utf-8")


def _write_unreadable(target: Path, language: str) -> None:
    title, body = UNREADABLE[language]
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(f'<!DOCTYPE html>\n<html lang="{language}"><meta charset="utf-8"><title>{title}</title>'
                      f"<body><h1>{title}</h1><p>{body}</p></body></html>\n", encoding="utf-8")
