"""Name screening cost per case: against the shipped sample and a 30,000-name list.

The large list is synthetic (company-like names from random syllables, places, legal
forms and aliases, some in Chinese), the size of the Consolidated Screening List's
entity rows; the buyer names mix exact hits, look-alikes, typos and innocent names. It
prints the index build time once and the screening cost per case (both buyer names).

    python bench/screening.py [CASES]
"""

from __future__ import annotations

import datetime as dt
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from chipclear.pack.loader import default_rules_dir, load_pack
from chipclear.screening.match import Index, Party
from chipclear.screening.normalise import fold

SYLLABLES = ("hua", "wei", "zhi", "pu", "xin", "tong", "long", "teng", "bo", "rui", "kang",
             "sheng", "tian", "yu", "jing", "an", "mei", "da", "feng", "guo", "hai", "ming")
WORDS = ("Technology", "Electronics", "Trading", "Semiconductor", "Industrial", "Logistics",
         "Precision", "Aviation", "Instruments", "Materials", "Systems", "Software")
PLACES = ("Beijing", "Shanghai", "Shenzhen", "Hong", "Dubai", "Moscow", "Tehran")
FORMS = ("Co., Ltd.", "Limited", "LLC", "Corporation", "Group", "Inc.", "FZE")
HANZI = "华为智谱鑫通龙腾博瑞康盛天宇京安美达丰国海明芯微光电子科技"
AS_OF = dt.date(2026, 6, 1)


def _name(rng: random.Random) -> str:
    core = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))).title()
    parts = [rng.choice(PLACES)] if rng.random() < 0.3 else []
    parts += [core, *rng.sample(WORDS, rng.randint(0, 2)), rng.choice(FORMS)]
    return " ".join(parts)


def synthetic(n: int, rng: random.Random) -> list[Party]:
    parties = []
    for i in range(n):
        name = _name(rng)
        words = name.split(" ")
        aliases = [words[1] if words[0] in PLACES else words[0]] if rng.random() < 0.5 else []
        if rng.random() < 0.1:
            hanzi = "".join(rng.choice(HANZI) for _ in range(rng.randint(4, 8)))
            aliases.append(hanzi + "有限公司")
        parties.append(Party("bench", f"p{i}", name, (name, *aliases), 1, dt.date(2020, 1, 1)))
    return parties


def buyers(parties: list[Party], rng: random.Random, n: int) -> list[list[str]]:
    out = []
    for _ in range(n):
        listed = rng.choice(parties).name
        kind = rng.random()
        if kind < 0.25:
            name = listed
        elif kind < 0.5:  # a look-alike letter or a typo
            i = rng.randrange(len(listed))
            name = listed[:i] + rng.choice("аоеx0") + listed[i + 1:]
        else:
            name = _name(rng)
        out.append([name, "".join(rng.choice(HANZI) for _ in range(6)) + "有限公司"])
    return out


def measure(label: str, index: Index, cases: list[list[str]]) -> None:
    fold.cache_clear()
    start = time.perf_counter()
    hits = sum(bool(index.screen(names, AS_OF)) for names in cases)
    per_case = (time.perf_counter() - start) / len(cases) * 1000
    print(f"{label:34} {per_case:7.3f} ms per case  ({hits}/{len(cases)} cases with a match)")


def main(n_cases: int) -> None:
    rng = random.Random(16)
    pack = load_pack(default_rules_dir())
    sample = pack.entity_list.parties[:25]
    big = synthetic(30_000, rng)
    start = time.perf_counter()
    fold.cache_clear()
    big_index = Index.build(big)
    print(f"index of 30,000 names built in {time.perf_counter() - start:.2f} s "
          f"({len(big_index.targets)} listed names and aliases)")
    cases = buyers(big, rng, n_cases)
    measure("25 names (shipped sample)", Index.build(sample), cases)
    measure(f"{len(pack.entity_list.parties)} names (whole shipped sample)",
            pack.entity_list.index, cases)
    measure("30,000 names (synthetic CSL size)", big_index, cases)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)
