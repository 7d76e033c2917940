"""What the learning management systems (Moodle, Canvas) send and take back.

The formats are the LMSs' own, as their code and documentation define them:
``download`` reads a submissions download safely (zip or folder), ``senders``
tells who sent each file from the names Moodle and Canvas give them,
``identity`` turns an LMS identity into an nbgrader student id, ``roster`` is
the class list, ``ledger`` the record of every file imported, ``moodle`` and
``canvas`` write what each LMS imports (grades, feedback files), and
``static_math`` makes feedback pages that show their formulas on their own.
The instructor's commands (``coursework.instructor``) put these together.
"""
