"""Generate an assignment's student notebook in exercises/ from solutions/ (nbgrader generate_assignment)."""

from __future__ import annotations

from .course import Course, CourseError


def release(course: Course, assignment: str) -> str:
    """Run nbgrader's generate_assignment for ``assignment``; return a one-line summary."""
    course.check_assignment(assignment)
    result = course.api.generate_assignment(assignment, force=True, create=True)
    if not result["success"]:
        raise CourseError(f"nbgrader could not generate {assignment}:\n{result.get('log', '')}"
                          f"{result.get('error', '')}")
    return f"{assignment}: released to {course.exercises / assignment}"
