"""Scripted pairs on which the reference-order rule and the local engine's exact mode are compared
(tests/fakes.py tables: the answer so far -> the next token, or {token: probability}).

Each case: (base table, nudging table, generate() options). ``DIFFERENT`` lists the cases where
the authors' reference (and so ``ReferenceRule``) and exact mode used to part ways, with the
reference's answer, exact mode's old one and the reference line responsible; exact mode now
follows those lines and gives the reference's answer.
"""

from __future__ import annotations

from fakes import SPECIALS, VOCAB, chain

from nudge_local.testing import FakeBackend

E = "<eos>"
C3, A9 = "<0xC3>", "<0xA9>"  # "é" as two byte tokens
HALF = "\ufffd"  # how a fake model sees a character it has half written


_TOKENIZER = FakeBackend(VOCAB, lambda text: E, specials=SPECIALS)


def tokens_of(text: str) -> list[str]:
    """``text`` as the fake models' tokens (byte tokens spelled "<0xNN>")."""
    out = []
    for t in _TOKENIZER.tokenize(text):
        piece = _TOKENIZER.pieces[t]
        out.append(piece if isinstance(piece, str) else f"<0x{piece[0]:02X}>")
    return out


def words(start: str, text: str, *, end: bool = False, p: float | None = None) -> dict:
    """Table entries that make a model write ``text`` (as the fake tokenizer splits it) after
    ``start``, each token with probability ``p`` (default 1); keys are the text as the fake model
    sees it (a half-written character as U+FFFD)."""
    table: dict = {}
    data = start.encode()
    for tok in [*tokens_of(text), *([E] if end else [])]:
        table[data.decode("utf-8", "replace")] = tok if p is None else {tok: p}
        data += bytes([int(tok[3:5], 16)]) if tok.startswith("<0x") else tok.encode() if tok != E else b""
    return table


SIXTEEN = "Sure, the answer is x y z w v u t s A B C D"  # 16 tokens, no end

CASES: dict[str, tuple[dict, dict, dict]] = {
    # the nudging model ends its answer within the draft: all of it is kept, even after a word
    # where the base would have taken over
    "eos_after_takeover_word": ({"Sure,": {" the": 0.9}}, words("", "Sure, the answer", end=True), {}),
    "takeover_then_base": (
        chain("Sure,", {" the": 0.9}, {" answer": 0.8}, {" is": 0.7}, {" 42": 0.9}, {".": 0.95}, {"\n": 0.1}),
        words("", SIXTEEN), {}),
    "draft_starts_with_newline": (
        {**chain("\n", {" The": 0.5}, {" answer": 0.9}, {" is": 0.9}, {" 42": 0.3}),
         "\n The answer is 42": "<eos>"},
        {**words("", "\n The x y z w v u t s A B C D E F"),
         **words("\n The answer is", " 42 and more", end=True)}, {}),
    "draft_with_leading_spaces": (
        chain("  The", {" answer": 0.95}, {" is": 0.95}, {" 42": 0.95}, {".": 0.2}),
        words("", "  The answer is x y z w v u t s A B C D E"), {}),
    "one_word_draft": ({}, chain("", *["ha"] * 16), {}),
    "no_takeover_keeps_all_but_last": ({}, words("", SIXTEEN), {}),
    "base_eos_right_after_nudge": (
        {"Sure,": E, "Sure, the": {" answer": 0.2}, "Sure, the answer": E}, words("", SIXTEEN), {}),
    "base_finishes_mid_chunk": (
        {**chain("Sure,", {" the": 0.9}, {" answer": 0.9}, E)}, words("", SIXTEEN), {}),
    "gamma_exactly": ({"Sure,": {" x": 0.4}, "Sure, x": {" y": 0.4}, "Sure, x y": {" z": 0.39}},
                      words("", SIXTEEN), {"gamma": 0.4}),
    "confidence_without_agreement": (
        chain("Sure, the", {" x": 0.6}, {" y": 0.99}, {" z": 0.99}, {".": 0.1}), words("", SIXTEEN), {}),
    "multibyte_base_char_not_cut": (
        {"Sure,": {" the": 0.9}, "Sure, the": {C3: 0.9}, "Sure, the" + HALF: {A9: 0.1},
         "Sure, theé": {" is": 0.9}, "Sure, theé is": {" 42": 0.1}},
        words("", SIXTEEN), {}),
    "multibyte_takeover_token": (
        {"Sure,": {C3: 0.9}, "Sure," + HALF: {A9: 0.2}, "Sure,é": {" x": 0.95}, "Sure,é x": {" y": 0.1}},
        words("", SIXTEEN), {}),
    "multibyte_in_draft": (
        {"Sure, cafeé": {" x": 0.5}, "Sure, cafeé x": {" y": 0.1}},
        words("", "Sure, cafeé the x y z w v u t s A B"), {}),
    "stuck_same_nudge": ({}, lambda a: None if a is None else (" ha" if len(a) < 400 else E), {}),
    # one-word drafts that differ from round to round ("Q"*16, "S"*16, ...)
    "round_limit": ({}, lambda a: None if a is None else "QS"[len(a) // 16 % 2], {"rule": {"max_rounds": 5}}),
    # guard 2: the base's chunk copies more than 5 words of the answer: dropped, turn over
    "guard_chunk_copies_answer": (
        chain("Sure, x y z w v u t s", {" x": 0.95}, {" y": 0.95}, {" z": 0.95}, {" w": 0.95}, {" v": 0.95},
              {" u": 0.95}, {" t": 0.95}, {" s": 0.1}),
        {**words("", "Sure, x y z w v u t s A B C D E F G"),
         **words("Sure, x y z w v u t s x", " and then", end=True)}, {}),
    # the final answer loses an immediate repeat of 30+ characters
    "final_repeat_stripped": (
        # the base starts copying the answer: a chunk of more than 5 words already in it
        {**{a: {t: 0.95} for a, t in (("one two three four five six seven eight nine ten one two", " three"),)},
         **chain("one two three four five six seven eight nine ten", {" one": 0.95}, {" two": 0.95},
                 {" three": 0.95}, {" four": 0.95}, {" five": 0.95}, {" six": 0.95}, {" seven": 0.95},
                 {" eight": 0.95}, {" nine": 0.95}, {" ten": 0.95}, {" one": 0.95}, {" two": 0.95},
                 {" three": 0.95}, {" four": 0.95}, {" five": 0.95}, {" six": 0.95}, {" seven": 0.1})},
        words("", "one two three four five six seven eight nine ten A B C D E F G"), {}),
}

#: Cases where the reference and exact mode differ: (reference answer, exact-mode answer, why).
DIFFERENT: dict[str, tuple[tuple[dict, dict, dict], str, str, str]] = {
    "accepted_chunk_repeats_turn": (
        (chain("Sure,", {" the": 0.9}, {" the": 0.95}, {" x": 0.1}), words("", SIXTEEN), {}),
        "Sure, the the",
        "Sure, the answer is x y z w v u t s A B C D",
        "guard 1 (utils.py complete_with_base: `if completion in completion_base: break`) judges the "
        "whole 16-token chunk, tokens after the first unsure one included; exact mode judges the "
        "accepted tokens only, so it drops the chunk ' the' (already in the turn ' the') which the "
        "reference keeps (' the x ...' is not in the turn)"),
    "loop_chunk_boundaries": (
        ({a: {" ha": 0.95} for a in ["Sure," + " ha" * k for k in range(60)]}, words("", SIXTEEN), {}),
        "Sure," + " ha" * 16,
        "Sure," + " ha" * 17,
        "chunk boundaries: the reference's first chunk is the 15 tokens after the takeover token "
        "(complete_with_base pops the stage-1 token: `current_base_info[\"tokens\"][1:]`), then 16 a "
        "call; exact mode counts 16-token chunks from the token after the takeover, so the repeat "
        "guards see other chunks (here guard 1 drops the second chunk one token later)"),
    "length_overshoot": (
        ({a: {" ha": 0.95} for a in ["Sure," + " ha" * k for k in range(60)]}, words("", SIXTEEN),
         {"max_tokens": 6}),
        "Sure," + " ha" * 16,
        "Sure," + " ha" * 4,
        "lengths: the reference checks the limit only between chunks "
        "(`while len(encoding.encode(completion_base)) < max_completion_token`) and appends whole "
        "chunks, overshooting max_tokens by up to 15 tokens; exact mode stops at max_tokens exactly"),
}
