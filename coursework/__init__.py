"""The course's coursework: the exercises' checks, the grading sandbox and the instructor's tools.

``coursework.chapters`` is the chapter registry; ``coursework.checks`` holds the
graded behaviours of each chapter's exercise; ``coursework.grading`` runs them
(in the student's notebook, or sandboxed for the grade book);
``coursework.instructor`` is the instructor's command line. This package depends
on ``lossfns`` (the reference it grades against); ``lossfns`` never imports it.
"""
