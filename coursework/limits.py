"""Every limit of the grading sandbox and of the grader, in one place.

Student code runs in a bubblewrap sandbox (``coursework.grading.sandbox``): a
resident zygote with torch loaded forks one child per behaviour (one graded
test cell). The zygote applies the per-child limits below with ``setrlimit``
and its own clock, and relays the child's answers; the grader, outside the
sandbox, reads them and never trusts them further than these sizes.

Per child (one behaviour, i.e. one test cell):

- ``BEHAVIOUR_SECONDS``: wall clock of one test cell. The CPU-time limit
  (``RLIMIT_CPU``) is one second above it, so a busy loop dies even if the
  zygote's clock is late.
- ``MEMORY_BYTES``: address space per process (``RLIMIT_AS``); torch alone maps
  about 0.65 GB, so a memory bomb fails with ``MemoryError`` well before the
  machine notices. It is per process, not per sandbox (no cgroups), which
  ``PROCESSES`` bounds.
- ``PROCESSES``: processes or threads a child may start beyond the zygote's own
  (``RLIMIT_NPROC``, counted per uid; a fork bomb stops there).
- ``FILE_BYTES``: the largest file a child may write (``RLIMIT_FSIZE``).
- ``OPEN_FILES``: file descriptors per process (``RLIMIT_NOFILE``).
- ``SCRATCH_BYTES``: size of the only writable folder, a tmpfs emptied after
  every child.
- ``OUTPUT_BYTES``: what one child may send back (its answers); an output
  flood beyond it stops the child and scores 0.

Per notebook and for the grader:

- ``NOTEBOOK_SECONDS``: wall clock of all the behaviours of one notebook
  (nbgrader's ``TIMEOUT``); checks that have not run by then score 0.
- ``GRACE_SECONDS``: the grader's own timeout is looser, ``NOTEBOOK_SECONDS +
  GRACE_SECONDS``, because the zygote enforces every limit above itself and
  answers only after them (killing and reaping a child, the hidden-input round
  trips, up to 5 s of fork retries); the grader's timeout only catches a zygote
  that went silent, so it must never fire before the zygote's own limits.
- ``REPLY_BYTES``: one line read from the zygote (all of a notebook's answers).
- ``START_SECONDS``: starting a sandbox (bubblewrap, importing torch, warm-up).
- ``FORWARD_PASSES``, ``WORK_SLACK``: the work a gradient the student derives by hand may
  do, in forward passes of the task (plus a little for bookkeeping). Backpropagation costs
  2 to 5 forward passes however it is written (vectorised, one example at a time, loops
  over units); numerical differentiation costs two per weight (48 for the smallest network
  graded), so 12 leaves honest code room and refuses finite differences on every network
  with more than 6 weights.
- ``NOTEBOOK_FILE_BYTES``: a submitted file larger than this is not read at all
  when submissions are collected (a notebook of this course is far smaller; a
  zip bomb is not).

Reading an LMS download (``coursework.lms.download``: a zip or a folder that
comes from outside, so it is read like untrusted input and never extracted):

- ``DOWNLOAD_FILES``: files in one download. A course of 2,000 students who
  each send a notebook and a few other files stays well below; a zip of
  millions of empty entries (a cheap way to exhaust memory and time) does not.
- ``DOWNLOAD_BYTES``: notebook bytes read from one download in all (after
  decompression). 2,000 notebooks of this course weigh about 0.1 GB; the limit
  leaves room for notebooks with large outputs and stops a zip bomb of many
  members each under ``NOTEBOOK_FILE_BYTES``.
- ``COMPRESSION_RATIO``: a member that claims to expand more than this many
  times is not read. Notebooks (JSON) compress 3 to 20 times; zip bombs claim
  1,000 times and more. Reads are bounded by ``NOTEBOOK_FILE_BYTES`` anyway, in
  case the sizes a zip declares are false.
- ``HELD_FILES``: notebooks of one import kept aside in lms/held/ because no
  roster student matches them (so nothing is dropped); beyond it they are listed
  but not copied, so a hostile download cannot fill the disk.
"""

MiB = 2**20

BEHAVIOUR_SECONDS = 30.0
MEMORY_BYTES = 2 * 2**30
PROCESSES = 4
FILE_BYTES = 16 * MiB
OPEN_FILES = 64
SCRATCH_BYTES = 64 * MiB
OUTPUT_BYTES = 64 * MiB

NOTEBOOK_SECONDS = 120.0
GRACE_SECONDS = 60.0
REPLY_BYTES = 256 * MiB
START_SECONDS = 120.0
NOTEBOOK_FILE_BYTES = 50 * MiB

DOWNLOAD_FILES = 20_000
DOWNLOAD_BYTES = 2 * 2**30
COMPRESSION_RATIO = 200
HELD_FILES = 2_000
FORWARD_PASSES = 12
WORK_SLACK = 64
