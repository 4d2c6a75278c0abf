"""Scripted model pairs for the controller tests (built on nudge_local.testing.FakeBackend)."""

from __future__ import annotations

from nudge_local import Nudger
from nudge_local.testing import FakeBackend

SYSTEM = "S"
QUESTION = "Q"
BASE_MARK = f"Question: {QUESTION}\n"  # base prompt: "S\nQuestion: Q\n" + answer
NUDGE_MARK = f"Question: {QUESTION}"  # nudging prompt, specials dropped: "SQuestion: Q" + answer
TEMPLATE = (
    "{% for m in messages %}<|{{ m.role }}|>{{ m.content }}{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)
SPECIALS = ["<eos>", "<|system|>", "<|user|>", "<|assistant|>"]
VOCAB = [
    "Sure", ",", " the", " The", " answer", " is", " 42", ".", " A", " B", " C", " D", " E",
    " F", " G", " H", " ha", "ha", " x", " y", " z", " w", " v", " u", " t", " s", "\n", " ",
    "1", "2", "3", " Hello", " world", " one", " two", " three", " four", " five", " six",
    " seven", " eight", " nine", " ten", " cafe", "Q", "S", "Question", ":", " Q",
]


def table_script(mark: str, table: dict, default="<eos>", log: list | None = None):
    """Next-token distribution looked up by the answer so far (text after ``mark``)."""

    def script(text: str):
        answer = text.split(mark, 1)[1] if mark in text else None
        if log is not None:
            log.append(answer)
        value = table(answer) if callable(table) else table.get(answer, default)
        return default if value is None else value

    return script


def make_pair(base_table, nudging_table, *, base_default="<eos>", nudging_default="<eos>",
              n_ctx=4096, template=TEMPLATE, base_log=None, nudging_log=None):
    base = FakeBackend(VOCAB, table_script(BASE_MARK, base_table, base_default, base_log),
                       specials=SPECIALS, n_ctx=n_ctx)
    nudging = FakeBackend(VOCAB, table_script(NUDGE_MARK, nudging_table, nudging_default, nudging_log),
                          specials=SPECIALS, n_ctx=n_ctx, chat_template=template)
    return base, nudging


def make_nudger(base_table, nudging_table, **kw) -> Nudger:
    base, nudging = make_pair(base_table, nudging_table, **kw)
    return Nudger(base, nudging)


def chain(start: str, *tokens):
    """Table entries that make a model write ``tokens`` one after another after ``start``
    (each token a string, or a ``{token: prob}`` dict whose first key is the one written)."""
    table, text = {}, start
    for tok in tokens:
        table[text] = tok
        text += tok if isinstance(tok, str) else next(iter(tok))
    return table
