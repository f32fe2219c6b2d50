"""How long the members'-needs pass takes over a province's suggestions (default 1,000,000).

Suggestions are composed in memory from the demo's sentences (demo/data/suggestions.json) with
variations — openers and closers, a second sentence, a repeated or dropped clause, a number,
a few characters swapped for others of the same sentence — so that jieba's cache of repeated
text does not flatter it. Then the pass the background task runs on each suggestion
(analysis.text.analyse: segmentation with the union-domain dictionary, stop words, need
categories by the default rules) runs over all of them, split in chunks over worker processes,
and the keyword and phrase counts are summed (analysis.text.count_terms). The database is not
involved: the task's reads and writes are batched and measured by the tests' run, not here.

    .venv/bin/python benchmarks/analysis_needs.py                  # 1,000,000 on every core
    .venv/bin/python benchmarks/analysis_needs.py --suggestions 100000 --processes 1
"""

import argparse
import json
import os
import random
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT_DIR))

from analysis.text import Rule, analyse, count_terms, parse_keywords, tokenizer  # noqa: E402

SUGGESTIONS = ROOT_DIR / "demo" / "data" / "suggestions.json"
RULES = ROOT_DIR / "analysis" / "data" / "default_rules.json"
CHUNK = 20_000


def compose(n: int, seed: int) -> list[str]:
    """n suggestions of one to three sentences, varied so that few repeat exactly."""
    data = json.loads(SUGGESTIONS.read_text(encoding="utf-8"))
    sentences = [s for item in data["items"] for tone in item.values() if isinstance(tone, list)
                 for s in tone]  # fmt: skip
    sentences += [s for tone in data["general"].values() for s in tone]
    openers = [s for tone in data["openers"].values() for s in tone]
    closers = [s for tone in data["closers"].values() for s in tone]
    rng = random.Random(seed)
    out = []
    for _i in range(n):
        parts = [rng.choice(sentences) for _j in range(rng.choice((1, 1, 2, 2, 3)))]
        if rng.random() < 0.3:
            parts.insert(0, rng.choice(openers))
        if rng.random() < 0.4:
            parts.append(rng.choice(closers))
        text = "".join(parts)
        if rng.random() < 0.3:  # a slip of the thumb: two characters swapped
            i = rng.randrange(max(len(text) - 1, 1))
            text = text[:i] + text[i + 1 : i + 2] + text[i : i + 1] + text[i + 2 :]
        if rng.random() < 0.1:
            text += f"（第{rng.randrange(1, 40)}车间）"
        out.append(text)
    return out


def _rules() -> list[Rule]:
    return [
        Rule(r["name"], parse_keywords(r["keywords"]))
        for r in json.loads(RULES.read_text(encoding="utf-8"))
    ]


def work(args: tuple[int, int, int]) -> tuple[int, list[int], Counter, Counter]:
    """One chunk: compose it, analyse each suggestion, count categories, keywords, phrases."""
    start, count, seed = args
    rules = _rules()
    tokenizer()
    texts = compose(count, seed + start)
    per_category = [0] * (len(rules) + 1)
    stored = []
    for text in texts:
        found, terms = analyse(text, rules)
        for index in found or [len(rules)]:
            per_category[index] += 1
        stored.append(terms)
    words, phrases = count_terms(stored)
    return len(texts), per_category, words, phrases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suggestions", type=int, default=1_000_000)
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seed", type=int, default=2022)
    args = parser.parse_args()

    began = time.perf_counter()
    tokenizer()  # the dictionary, loaded once here so its second is not in the first chunk
    loaded = time.perf_counter() - began
    chunks = [
        (start, min(CHUNK, args.suggestions - start), args.seed)
        for start in range(0, args.suggestions, CHUNK)
    ]
    total, per_category, words, phrases = 0, None, Counter(), Counter()
    began = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.processes) as pool:
        for n, categories, w, p in pool.map(work, chunks):
            total += n
            per_category = (
                categories
                if per_category is None
                else [a + b for a, b in zip(per_category, categories, strict=True)]
            )
            words.update(w)
            phrases.update(p)
    seconds = time.perf_counter() - began
    names = [r.name for r in _rules()] + ["其他"]
    print(f"dictionary loaded in {loaded:.1f} s")
    print(
        f"{total:,} suggestions, {args.processes} process(es): {seconds:.1f} s, "
        f"{total / seconds:,.0f} suggestions/s (composing them included)"
    )
    counts = zip(names, per_category, strict=True)
    print("categories: " + ", ".join(f"{n} {c:,}" for n, c in counts))
    print("top keywords: " + ", ".join(f"{w} {c:,}" for w, c in words.most_common(12)))
    print("top phrases: " + ", ".join(f"{w} {c:,}" for w, c in phrases.most_common(8)))


if __name__ == "__main__":
    main()
