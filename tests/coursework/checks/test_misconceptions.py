"""Every misconception a check module declares is recognised on an answer crafted to have it, in both
languages, with a link to the section that treats it; a right answer is never diagnosed.

The crafted answer returns exactly what the misconception computes (its ``produce``, worked out here
beforehand, since the checks refuse library code computing for the student) on every input of the
behaviour; misconceptions recognised by a ``detect`` test instead are crafted by hand in each
chapter's test module (test_chN.py: an overflowing softmax, 0·log 0, counts, numerical derivatives).
"""

from __future__ import annotations

import json

import pytest
from checkkit import verdicts

from coursework.chapters import CHAPTERS
from coursework.grading.registry import check_module
from coursework.grading.seed import instructor_seed
from coursework.grading.verdict import cases_of
from coursework.grading.wire import encode

PAIRS = [(chapter, behaviour, misconception) for chapter in CHAPTERS
         for behaviour in check_module(chapter).BEHAVIOURS for misconception in behaviour.misconceptions
         if misconception.produce is not None]


def _same_on_every_case(behaviour, first, second) -> bool:
    """Whether two misconceptions compute the same thing on all of a behaviour's inputs."""
    from coursework.grading.compare import mismatch

    for case, _ in cases_of(behaviour, instructor_seed()[0]):
        a, b = (m.produce(*case.args, **case.kwargs) for m in (first, second))
        if mismatch(a, b, rtol=1e-9, atol=behaviour.atol) is not None:
            return False
    return True


@pytest.mark.parametrize("chapter, behaviour, misconception", PAIRS,
                         ids=[f"{b.grade_id}-{m.key}" for _, b, m in PAIRS])
def test_each_misconception_is_named_on_an_answer_that_has_it(chapter, behaviour, misconception):
    def key(args, kwargs):
        return json.dumps([encode(args), encode(kwargs)])

    answers = {key(case.args, case.kwargs): misconception.produce(*case.args, **case.kwargs)
               for case, _ in cases_of(behaviour, instructor_seed()[0])}

    def crafted(*args, **kwargs):
        return answers[key(args, kwargs)]

    for language in ("es", "en"):
        found = verdicts(chapter.assignment(language), {behaviour.function: crafted}, [behaviour.grade_id])
        verdict = found[behaviour.grade_id]
        assert not verdict.passed, "the misconception computes the right answer on every input"
        named = next((m for m in behaviour.misconceptions if m.key == verdict.diagnosis), None)
        assert named is not None, str(verdict)
        assert named is misconception or _same_on_every_case(behaviour, named, misconception), \
            verdict.diagnosis
        assert named.text[language] in str(verdict) and f"#{named.section}" in str(verdict)


def test_misconception_keys_are_unique_within_a_behaviour_and_worded_in_both_languages():
    for chapter in CHAPTERS:
        for behaviour in check_module(chapter).BEHAVIOURS:
            keys = [m.key for m in behaviour.misconceptions]
            assert len(keys) == len(set(keys)), behaviour.grade_id
            for misconception in behaviour.misconceptions:
                assert set(misconception.text) == {"es", "en"} and all(misconception.text.values())
                assert (misconception.produce is None) != (misconception.detect is None) or \
                    behaviour.judge is not None  # a judge names its own (structure) misconceptions
