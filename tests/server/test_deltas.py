"""Deltas join to the final (cleaned-up) answer, whatever the pieces: no text is sent that the
clean-up later drops, and ordinary text is not held back for long."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from nudge_local import Piece, Span
from nudge_local._text import strip_repeated_suffix  # the engine's clean-up, the reference here
from nudge_local.server._deltas import DeltaShaper, RepeatTail, cleaned

WORDS = [" one", " two", " three", " four", " fives", " and", " the sky is blue.", "\n", "  ", " ", "ok"]


def stream(pieces: list[str]) -> tuple[str, str]:
    shaper = DeltaShaper(clean=True)
    sent = "".join(p.text for piece in pieces for p in shaper.feed(Piece(piece, "base", 0.5)))
    final = strip_repeated_suffix("".join(pieces))
    sent += "".join(p.text for p in shaper.finish(final, [Span(final, "base")] if final else []))
    return sent, final


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(WORDS), max_size=60), st.lists(st.sampled_from(WORDS), max_size=12),
       st.integers(0, 4))
def test_deltas_join_to_the_cleaned_answer(head, loop, repeats):
    pieces = head + loop * repeats  # answers that end inside a loop, as a stuck base writes them
    sent, final = stream(pieces)
    assert sent == final


def test_a_loop_at_the_end_is_never_sent():
    sentence = " The primary colors are red, blue, and yellow."
    sent, final = stream(["Sure."] + [sentence] * 4)
    assert final == "Sure." + sentence and sent == final


def test_ordinary_text_is_held_back_a_few_characters_at_most():
    shaper = DeltaShaper(clean=True)
    words = "Rayleigh scattering bends short blue wavelengths of sunlight far more than red ones, so the sky looks blue"
    sent = ""
    for word in words.split(" "):
        sent += "".join(p.text for p in shaper.feed(Piece(word + " ", "nudging")))
        assert len(words[: len(sent)]) >= len(sent) and words.startswith(sent)
    assert len(words) - len(sent) < 8, repr(sent)


def test_one_model_alone_passes_every_piece():
    shaper = DeltaShaper(clean=False)
    assert [p.text for p in shaper.feed(Piece("  hi ", "base"))] == ["  hi "]
    assert shaper.finish("  hi ", [Span("  hi ", "base")]) == []


def test_sources_and_confidence_survive():
    shaper = DeltaShaper(clean=True)
    out = shaper.feed(Piece(" Sure", "nudging", None)) + shaper.feed(Piece(" thing.", "base", 0.9))
    assert [(p.text, p.source, p.confidence) for p in out] == [("Sure", "nudging", None), (" thing.", "base", 0.9)]


def test_repeat_tail_is_the_longest_repeat_at_thirty_or_more():
    # (also checked against a brute-force search below)
    tail = RepeatTail(min_period=30)
    text = "x" * 5 + "abcdefghijklmnopqrstuvwxyz0123456789" * 2
    longest = [tail.update(text, end) for end in range(1, len(text) + 1)]
    assert longest[-1] == 36  # the second copy of the 36-character run
    assert max(longest[:41]) == 0  # nothing repeats before the second copy begins


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="ab ", max_size=120), st.integers(1, 12))
def test_repeat_tail_matches_a_brute_force_search(text, step):
    tail = RepeatTail(min_period=30)
    for end in range(step, len(text) + 1, step):
        expected = max((k for k in range(1, end + 1) if text[end - k : end] in text[: max(0, end - 30)]), default=0)
        assert tail.update(text, end) == expected


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab \n", max_size=200))
def test_the_fast_clean_up_is_the_engines(text):
    assert cleaned(text) == strip_repeated_suffix(text)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(WORDS), max_size=20), st.lists(st.sampled_from(WORDS), min_size=1, max_size=8),
       st.integers(1, 3), st.lists(st.sampled_from(WORDS), max_size=6), st.integers(0, 4),
       st.lists(st.sampled_from(WORDS), max_size=6))
def test_deltas_join_to_the_cleaned_answer_for_loops_within_loops(head, inner, r1, mid, r2, tail):
    unit = inner * r1 + mid  # a loop whose copies themselves end with a repeat
    sent, final = stream(head + unit * r2 + tail)
    assert sent == final


def test_a_loop_whose_copies_repeat_inside_is_cut_back_as_the_clean_up_does():
    # Found by the test above: the copy in progress starts after a repeat that is shorter than
    # the longest repeating tail; the clean-up then cuts into the loop's first copy.
    pieces = [" one", " one", " two", " three", " the sky is", " two", " the sky is", " one", " two", " three",
              " the sky is", " two", " the sky is", " two", " three", " the sky is", " two", " the sky is"]
    sent, final = stream(pieces)
    assert final == "one one two three the sky is two the sky is" and sent == final
