"""Reading suggestions: jieba segmentation with the union-domain dictionary, and need categories.

Pure functions over text, so the background task, the benchmark's worker processes and the
tests call the same code. The dictionary and stop words live in analysis/data and are edited
there (one entry a line); the category rules live in the database (NeedRule) and reach here as
a list of `Rule`.
"""

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from itertools import pairwise
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
USER_DICT = DATA / "userdict.txt"
STOP_WORDS = DATA / "stopwords.txt"
# A keyword right after one of these is negated (不安全 is about safety, 不满意 is no praise):
# a praise keyword so preceded does not count.
NEGATIONS = frozenset("不没未无别")
KEYWORD_SPLIT = re.compile(r"[\s,，、;；]+")
CLAUSE_SPLIT = re.compile(r"[。！？!?；;，,、：:\s（）()“”\"…]+")
_HAS_WORD = re.compile(r"[\u4e00-\u9fffA-Za-z]")
# Digit runs a member may write (a phone, an ID number): masked wherever a suggestion is shown.
_DIGITS = re.compile(r"\d[\d\s-]{5,}\d[Xx]?")


@dataclass(frozen=True)
class Rule:
    name: str
    keywords: tuple[str, ...]


def parse_keywords(text: str) -> tuple[str, ...]:
    """Keywords as an admin types them: separated by spaces, commas or 、, duplicates dropped."""
    seen: dict[str, None] = {}
    for word in KEYWORD_SPLIT.split(text or ""):
        if word.strip():
            seen[word.strip()] = None
    return tuple(seen)


@cache
def stop_words() -> frozenset[str]:
    lines = STOP_WORDS.read_text(encoding="utf-8").splitlines()
    return frozenset(w.strip() for w in lines if w.strip() and not w.startswith("#"))


@cache
def tokenizer():
    """A jieba tokenizer of its own (the module's global one is shared with anyone importing
    jieba), with the union-domain dictionary; built once per process (~1 s)."""
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    tk = jieba.Tokenizer()
    tk.load_userdict(str(USER_DICT))
    return tk


def segment(text: str) -> list[list[str]]:
    """The kept words of each clause: stop words, punctuation, digits and single characters out.

    HMM (the guessing of words not in the dictionary) is off: the domain words come from the
    user dictionary, and it doubles the speed of a million suggestions.
    """
    tk, stops = tokenizer(), stop_words()
    clauses = []
    for clause in CLAUSE_SPLIT.split(text):
        if not clause:
            continue
        words = [
            w
            for w in tk.lcut(clause, HMM=False)
            if len(w) >= 2 and w not in stops and _HAS_WORD.search(w)
        ]
        if words:
            clauses.append(words)
    return clauses


def categorize(text: str, rules: list[Rule]) -> list[int]:
    """Indexes of the rules whose keywords the text contains (empty: 其他).

    Keywords are matched in the raw text, not among jieba's words, so that a keyword the
    dictionary splits (妈咪小屋) still matches; a keyword right after a negation does not.
    """
    found = []
    for index, rule in enumerate(rules):
        for keyword in rule.keywords:
            start = text.find(keyword)
            while start != -1:
                if start == 0 or text[start - 1] not in NEGATIONS:
                    found.append(index)
                    break
                start = text.find(keyword, start + 1)
            else:
                continue
            break
    return found


def encode_terms(clauses: list[list[str]]) -> str:
    """Stored form of the kept words: words by spaces, clauses by ' / '."""
    return " / ".join(" ".join(words) for words in clauses)


def count_terms(stored: Iterable[str]) -> tuple[Counter, Counter]:
    """Keyword and phrase (two kept words in a row within a clause) counts over stored terms.

    A suggestion counts once per keyword and phrase, however often it repeats them.
    """
    words: Counter = Counter()
    phrases: Counter = Counter()
    for terms in stored:
        seen_words: set[str] = set()
        seen_phrases: set[str] = set()
        for clause in terms.split(" / "):
            kept = clause.split()
            seen_words.update(kept)
            seen_phrases.update(a + b for a, b in pairwise(kept) if a != b)
        words.update(seen_words)
        phrases.update(seen_phrases)
    return words, phrases


def mask_digits(text: str) -> str:
    """A suggestion as shown to admins: digit runs (a phone, an ID number) masked."""
    return _DIGITS.sub(lambda m: m.group(0)[:3] + "*" * (len(m.group(0)) - 3), text)


def analyse(text: str, rules: list[Rule]) -> tuple[list[int], str]:
    """One suggestion: its category indexes and its stored terms."""
    return categorize(text, rules), encode_terms(segment(text))
