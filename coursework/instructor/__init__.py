"""The instructor's side of the course: from the LMS's download to the LMS's grade import.

release, roster (the class list), import (an LMS download into nbgrader's layout),
autograde (also one student, or one shard; merge), feedback, formgrader, similarity,
export (grades and feedback packages for Moodle and Canvas) and report. Everything goes
through nbgrader (configured in the course's nbgrader_config.py); the LMSs' formats are in
``coursework.lms``. ``python -m coursework.instructor --help`` lists the commands.
"""
