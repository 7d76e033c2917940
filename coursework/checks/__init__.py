"""The graded behaviours of each chapter's exercise: one module per chapter, named in coursework.chapters."""
