"""Every text shown to students or instructors exists in both languages, with the same placeholders.

The tables are found, not listed: any module-level dict of coursework keyed by exactly the
course's languages (and every behaviour's summary) is checked, so a new table is covered too.
"""

from __future__ import annotations

import importlib
import pkgutil
import string

import pytest

import coursework
from coursework.chapters import CHAPTERS, LANGUAGES
from coursework.grading.registry import check_module


def modules():
    for info in pkgutil.walk_packages(coursework.__path__, "coursework."):
        if not info.name.endswith(("__main__", ".zygote")):  # the zygote runs only inside the sandbox
            yield importlib.import_module(info.name)


def language_tables() -> dict[str, dict]:
    """``{"module.NAME": table}`` for every module-level dict whose keys are the languages."""
    return {f"{module.__name__}.{name}": value for module in modules() for name, value in vars(module).items()
            if isinstance(value, dict) and set(value) == set(LANGUAGES)}


def shape(value):
    """The keys and the {placeholders} of a message table entry, recursively (texts themselves differ)."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, (tuple, list)):
        return [shape(item) for item in value]
    return sorted({field for _, field, _, _ in string.Formatter().parse(value) if field is not None})


TABLES = language_tables()


def test_the_known_tables_are_found():
    names = {name.rsplit(".", 1)[1] for name in TABLES}
    assert {"TEXT", "FAILURES", "REFUSAL", "IMPORT_REFUSAL", "AUTOGRAD_MESSAGE", "UNREADABLE"} <= names


@pytest.mark.parametrize("name", sorted(TABLES))
def test_every_language_has_the_same_keys_and_placeholders(name):
    table = TABLES[name]
    first, *others = LANGUAGES
    for language in others:
        assert shape(table[language]) == shape(table[first]), f"{name}: {language} differs from {first}"
    assert all(table[language] for language in LANGUAGES)


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.id for c in CHAPTERS])
def test_every_behaviour_is_summarised_in_both_languages(chapter):
    for behaviour in check_module(chapter).BEHAVIOURS:
        assert set(behaviour.summary) == set(LANGUAGES), behaviour.grade_id
        assert shape(behaviour.summary[LANGUAGES[0]]) == shape(behaviour.summary[LANGUAGES[1]])
