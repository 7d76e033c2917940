"""The instructor's side of the course: release, collect, autograde, feedback, export, report.

Everything goes through nbgrader (configured in the course's nbgrader_config.py);
``python -m coursework.instructor --help`` lists the commands.
"""
