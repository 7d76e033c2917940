"""HTML feedback for each graded student, in the language of the notebook.

nbgrader writes feedback/<student>/<assignment>/<notebook>.html from the
autograded notebook; the verdicts in it are already in the notebook's
language, and so are the few headings nbgrader's template adds, translated
here for the Spanish assignments. A submission that could not be read gets a
short page saying so. (nbgrader's template loads MathJax from a CDN: offline,
formulas in the feedback show as LaTeX source.)
"""

from __future__ import annotations

import html
from pathlib import Path

from ..grading.registry import parse_assignment
from .course import Course
from .progress import Progress

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
    "es": ("Tu entrega no se pudo leer", "El archivo entregado no es un cuaderno válido, así que esta tarea "
           "quedó con 0 puntos. Vuelve a descargar el cuaderno desde Jupyter (File → Download) y entrégalo "
           "de nuevo, o habla con tu docente."),
    "en": ("Your submission could not be read", "The file you handed in is not a valid notebook, so this "
           "assignment scored 0. Download the notebook from Jupyter again (File → Download) and hand it in "
           "again, or talk to your instructor."),
}


def feedback(course: Course, assignment: str, unreadable: dict[str, str] | None = None) -> list[Path]:
    """Write the feedback of every autograded student of ``assignment``; return the files."""
    _, language = parse_assignment(course.check_assignment(assignment))
    name = Path(course.notebook_name(assignment)).with_suffix(".html").name
    students = course.submissions(assignment)
    written = []
    with Progress(f"feedback {assignment}", len(students)) as bar:
        for student in students:
            target = course.feedback / student / assignment / name
            if (course.autograded / student / assignment).is_dir():
                result = course.api.generate_feedback(assignment, student, force=True)
                if not result["success"]:
                    _write_unreadable(target, language, (result.get("error") or "")[-300:])
            else:
                _write_unreadable(target, language, (unreadable or {}).get(student, ""))
            if target.is_file():
                if language == "es":
                    _translate(target)
                written.append(target)
            bar.advance(student)
    return written


def _translate(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    for english, spanish in SPANISH.items():
        text = text.replace(english, spanish)
    path.write_text(text.replace('<html lang="en">', '<html lang="es">'), encoding="utf-8")


def _write_unreadable(target: Path, language: str, detail: str) -> None:
    title, body = UNREADABLE[language]
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(f'<!DOCTYPE html>\n<html lang="{language}"><meta charset="utf-8"><title>{title}</title>'
                      f"<body><h1>{title}</h1><p>{body}</p><pre>{html.escape(detail)}</pre></body></html>\n",
                      encoding="utf-8")
