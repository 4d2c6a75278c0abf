"""Rule-based scorers: they read the final answer out of a free-text, step-by-step output.

The paper grades math tasks by rule (the last number) and everything else with GPT-4o-mini;
offline, every task is graded by rule here. Each scorer returns None when no rule can read an
answer; those items count as wrong and are reported as "unreadable".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from ._tasks import Item, Scorer

# A number: optional sign, digits with optional thousands commas, optional decimals. The sign
# counts only where it cannot be a binary minus ("5-3" is 5 and 3; "is -3" is -3). The
# reference's pattern, \d+(?:,\d{3})*(?:\.\d*)?, has no sign at all.
_NUMBER = re.compile(r"(?P<sign>(?<![\w)\]])-\s?)?\$?(?P<int>\d+(?:,\d{3})*)(?P<frac>\.\d+)?")
_MINUS_SIGNS = str.maketrans({"\u2212": "-", "\u2013": "-", "\ufe63": "-", "\uff0d": "-"})


def numbers_in(text: str) -> list[str]:
    """Every number in ``text``, normalized: commas dropped, integral values as integers
    ("1,234.00" -> "1234", "-3" -> "-3", "2.50" -> "2.5")."""
    out = []
    for m in _NUMBER.finditer(text.translate(_MINUS_SIGNS)):
        raw = m.group("int").replace(",", "") + (m.group("frac") or "")
        out.append(normalize_number(("-" if m.group("sign") else "") + raw))
    return out


def normalize_number(raw: str) -> str:
    value = Decimal(raw)
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(), "f")


def gold_number(text: str) -> str:
    """The gold answer of a math item: the number after GSM8K's "####" if there is one, else
    the last number of the text."""
    tail = text.rsplit("####", 1)[1] if "####" in text else text
    found = numbers_in(tail)
    if not found:
        raise ValueError(f"no number in the gold answer {text!r}")
    return found[-1]


@dataclass(frozen=True)
class NumberScorer:
    """Math tasks: the last number in the output equals the gold number."""

    name: str = "number"

    def extract(self, output: str, item: Item) -> str | None:
        found = numbers_in(output)
        return found[-1] if found else None

    def matches(self, answer: str, item: Item) -> bool:
        try:
            return Decimal(answer) == Decimal(item.target)
        except InvalidOperation:
            return False


@dataclass(frozen=True)
class ChoiceScorer:
    """Multiple choice: the label the output commits to, by the first rule that reads one:
    an explicit "answer is (B)" / "Answer: B" (the last one); a label in parentheses "(B)";
    a single line starting "B." / "B)" (letter labels only: numbered steps look the same);
    "option B"; the one choice whose text the output quotes; a label ending the output."""

    name: str = "choice"

    def extract(self, output: str, item: Item) -> str | None:
        labels = item.labels
        if not labels:
            return None
        lab = "|".join(re.escape(label) for label in sorted(labels, key=len, reverse=True))
        letters = all(label.isalpha() for label in labels)
        rules = [
            rf"(?i:answer(?:\s+is)?\s*(?::|is|=)?\s*(?:option\s+|choice\s+)?)[(\[*]*\s*({lab})(?![\w])",
            rf"\(({lab})\)",
        ]
        for pattern in rules:
            found = re.findall(pattern, output, flags=re.IGNORECASE if not letters else 0)
            found = [f for f in found if f in labels]
            if found:
                return str(found[-1])
        if letters:
            starts = re.findall(rf"^\s*[*#]*\s*({lab})\s*(?:[.):]|$)", output, flags=re.MULTILINE)
            if len(starts) == 1:
                return str(starts[0])
        found = re.findall(rf"\b(?:option|choice)\s+({lab})(?![\w])", output, flags=re.IGNORECASE)
        found = [f for f in found if f in labels]
        if found:
            return str(found[-1])
        quoted = _quoted_choice(output, item)
        if quoted is not None:
            return quoted
        end = re.search(rf"(?<![\w])({lab})\W*$", output.strip())
        return end.group(1) if end else None

    def matches(self, answer: str, item: Item) -> bool:
        return answer == item.target


def _quoted_choice(output: str, item: Item) -> str | None:
    """The label of the only choice whose text appears in the output (word-bounded,
    case-insensitive); None when none or several do."""
    hits = set()
    low = output.lower()
    for label, text in zip(item.labels, item.choices, strict=False):
        t = text.strip().lower()
        if len(t) >= 2 and re.search(rf"(?<![\w]){re.escape(t)}(?![\w])", low):
            hits.add(label)
    return hits.pop() if len(hits) == 1 else None


_YES = {"yes": "yes", "true": "yes", "no": "no", "false": "no"}
_YESNO = r"(yes|no|true|false)"


@dataclass(frozen=True)
class YesNoScorer:
    """Boolean tasks (StrategyQA, coin flip): an explicit "the answer is yes" / "Answer: No"
    (the last one); else the output's first word; else the last sentence that starts with yes
    or no. With ``coin=True``, a last resort reads "heads up" as yes and "tails up" or "not
    heads up" as no."""

    name: str = "yesno"
    coin: bool = False

    def extract(self, output: str, item: Item) -> str | None:
        text = output.strip()
        found = re.findall(rf"answer(?:\s+is)?\s*(?::|is)\s*[*\"'“(]*\s*{_YESNO}\b", text, flags=re.IGNORECASE)
        if found:
            return _YES[found[-1].lower()]
        first = re.match(rf"[\W_]*{_YESNO}\b", text, flags=re.IGNORECASE)
        if first:
            return _YES[first.group(1).lower()]
        starts = re.findall(rf"(?:^|[.!?:\n])[\s*_\"']*{_YESNO}\b", text, flags=re.IGNORECASE)
        if starts:
            return _YES[starts[-1].lower()]
        return _coin_side(text) if self.coin else None

    def matches(self, answer: str, item: Item) -> bool:
        return answer == item.target


def _coin_side(text: str) -> str | None:
    sides = list(re.finditer(r"\b(heads|tails)\b", text, flags=re.IGNORECASE))
    if not sides:
        return None
    last = sides[-1]
    before = text[max(0, last.start() - 25): last.start()].lower()
    heads = last.group(1).lower() == "heads"
    if re.search(r"\b(not|no longer|isn't|is not|never)\b", before):
        heads = not heads
    return "yes" if heads else "no"


_MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september",
           "october", "november", "december"]
_MONTH = "(" + "|".join(m[:3] + r"[a-z]*\.?" for m in _MONTHS) + ")"
_DATE_PATTERNS = [
    (re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b"), "mdy"),
    (re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b"), "ymd"),
    (re.compile(_MONTH + r"\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\b", re.IGNORECASE), "Mdy"),
    (re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?" + _MONTH + r",?\s+(\d{4})\b", re.IGNORECASE), "dMy"),
]


def dates_in(text: str) -> list[tuple[int, date]]:
    """(position, date) of every valid date written as MM/DD/YYYY, YYYY-MM-DD, "March 5, 2021"
    or "5 March 2021", in order of position."""
    found = []
    for pattern, order in _DATE_PATTERNS:
        for m in pattern.finditer(text):
            a, b, c = m.groups()
            try:
                if order == "mdy":
                    d = date(int(c), int(a), int(b))
                elif order == "ymd":
                    d = date(int(a), int(b), int(c))
                elif order == "Mdy":
                    d = date(int(c), _month_number(a), int(b))
                else:
                    d = date(int(c), _month_number(b), int(a))
            except ValueError:
                continue
            found.append((m.start(), d))
    return sorted(found)


def _month_number(word: str) -> int:
    return [m[:3] for m in _MONTHS].index(word[:3].lower()) + 1


@dataclass(frozen=True)
class DateScorer:
    """Date tasks: the last date in the output (any of the usual formats) equals the gold
    date, given as MM/DD/YYYY."""

    name: str = "date"

    def extract(self, output: str, item: Item) -> str | None:
        found = dates_in(output)
        return found[-1][1].strftime("%m/%d/%Y") if found else None

    def matches(self, answer: str, item: Item) -> bool:
        return answer == item.target


@dataclass(frozen=True)
class WordScorer:
    """A one-word answer (last-letter concatenation): the word after an explicit "the answer
    is" / "Answer:", else the last quoted word, else the output's last word; compared
    letters only, case-insensitive."""

    name: str = "word"

    def extract(self, output: str, item: Item) -> str | None:
        text = output.strip()
        for pattern in (r"answer(?:\s+is)?\s*(?::|is)\s*[*\"'“‘]*([A-Za-z]+)\b",
                        r"[\"“‘']([A-Za-z]+)[\"”’']"):
            found = re.findall(pattern, text, flags=re.IGNORECASE)
            if found:
                return _letters(found[-1]) or None
        words = re.findall(r"[A-Za-z]+", text)
        return words[-1].lower() if words else None

    def matches(self, answer: str, item: Item) -> bool:
        return _letters(answer) == _letters(item.target)


def _letters(text: str) -> str:
    return re.sub(r"[^a-z]", "", text.lower())


SCORERS: dict[str, Scorer] = {"number": NumberScorer(), "choice": ChoiceScorer(), "yesno": YesNoScorer(),
           "coin": YesNoScorer(name="coin", coin=True), "date": DateScorer(), "word": WordScorer()}
