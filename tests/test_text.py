from nudge_local._text import Utf8Assembler, is_repetitive_chunk, split_draft, strip_repeated_suffix
from nudge_local._types import Piece, Span, merge_spans, nudge_ratio


def test_split_draft_keeps_leading_spaces_and_empty_words():
    prefix, words = split_draft("  Sure,  the answer")
    assert prefix == "  "
    assert words == ["Sure,", "", "the", "answer"]
    assert prefix + " ".join(words) == "  Sure,  the answer"


def test_utf8_assembler_holds_partial_characters():
    a = Utf8Assembler()
    data = "é😀".encode()
    out = ""
    for b in data:
        out += a.feed(bytes([b]))
        assert "\ufffd" not in out
    assert out == "é😀"
    assert not a.pending
    assert a.feed(b"\xf0\x9f") == "" and a.pending


def test_repetition_chunk_rule():
    answer = "one two three four five six seven"
    assert is_repetitive_chunk(" two three four five six seven", answer)
    # counted as the reference does, split on " ": a leading space makes an empty first item
    assert not is_repetitive_chunk(" four five six seven", answer)
    assert not is_repetitive_chunk(" two three four five six eight", answer)


def test_strip_repeated_suffix():
    unit = "The answer is 42 and that is it. "
    assert strip_repeated_suffix("Intro. " + unit * 3) == ("Intro. " + unit).strip()
    short = "ha ha ha ha"
    assert strip_repeated_suffix(short) == short


def test_nudge_ratio_counts_words_by_first_character():
    spans = merge_spans([Piece("Sure,", "nudging"), Piece(" the", "base"), Piece(" ans", "base"),
                         Piece("wer", "nudging"), Piece(" is", "base")])
    assert spans[0] == Span("Sure,", "nudging")
    assert nudge_ratio(spans) == 1 / 4
