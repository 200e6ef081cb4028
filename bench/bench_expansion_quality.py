"""Benchmark: how right cohort expansions are, against sourced facts and an independent judge.

Run: python bench/bench_expansion_quality.py [--facts PATH] [--brief]

The query concepts are those of the ``member`` / ``non-member`` rows of ``tests/ontology/terminology_facts.tsv``
(written by ``tests/ontology/make_terminology_facts.py``). For each: the expansion size (members other than the
query itself), the members judged wrong with every reason, and the expected members missed. A member is judged
wrong when a fact lists it as a ``non-member``, or when the judge below flags it; a flag on a member the facts
expect is printed as a disagreement and not counted. Expected members: ``member`` rows, and both sides of
``same`` rows.

The judge reads codes and labels only, never the library's semantics:

- code structure, under a malignant query: ICD-10 D00-D09 in situ, D10-D36 benign, D37-D48 uncertain behaviour,
  C77-C79 secondary; ICD-O-3 morphology behaviour /0 /1 /2 /6;
- a site-specific query (its label names an organ, or it is an ICD-O-3 topography): an ICD-O-3 morphology code
  (it has no site); a disease query: an ICD-O-3 topography code (a site is not a disease); a topography query:
  a disease or histology;
- label words, under a malignant query whose own label lacks them: in situ, benign, secondary, metastatic /
  metastasis, uncertain behaviour, borderline, non-invasive;
- organ words: the member's label names only other organs than the query's.

Totals: % wrong = wrong / expansion size, over all queries; % found = expected members found / expected members
(facts naming a CURIE the release lacks are counted apart). Targets: at most 1 % wrong, at least 95 % found.
"""

from __future__ import annotations

import argparse
import csv
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from hyperontology import Hyperontology, load_ontology

FACTS = Path(__file__).resolve().parents[1] / "tests" / "ontology" / "terminology_facts.tsv"
TARGET_WRONG, TARGET_FOUND = 1.0, 95.0

MALIGNANT = re.compile(r"malignan|cancer|carcinom|sarcom|lymphom|leuk(?:a)?emi|myelom|melanom|glioblastom|blastoma",
                       re.I)
DISEASE = re.compile(r"neoplas|tumou?r|carcinom|cancer|sarcom|lymphom|leuk(?:a)?emi|myelom|melanom|glioma|blastom"
                     r"|adenoma|naev|nevus|malignan", re.I)
WORDS = {
    "in situ": re.compile(r"\bin situ\b", re.I),
    "benign": re.compile(r"\bbenign\b", re.I),
    "secondary": re.compile(r"\bsecondary\b", re.I),
    "metastatic": re.compile(r"metasta", re.I),
    "uncertain behaviour": re.compile(r"uncertain (?:or unknown )?behaviou?r|uncertain whether benign", re.I),
    "borderline": re.compile(r"borderline", re.I),
    "non-invasive": re.compile(r"non-?invasive|noninfiltrating", re.I),
}
BEHAVIOUR = {"0": "benign", "1": "uncertain whether benign or malignant", "2": "in situ", "6": "metastatic"}
HEAD_NECK = (r"head and neck|\blip\b|\boral\b|mouth|tongue|\bgum\b|gingiv|palat|tonsil|pharyn|laryn|glott|salivary"
             r"|parotid|nasal|\bsinus|sinonasal|(?<!bladder )\bneck\b|\bface\b")
ORGANS = {name: re.compile(rx, re.I) for name, rx in {
    "lung": r"\blungs?\b|pulmonar|bronch", "trachea": r"trache", "pleura": r"pleura", "thymus": r"thym",
    "breast": r"breast|nipple|areola|mammary", "prostate": r"prostat", "testis": r"\btest(?:is|icular)",
    "colon": r"\bcolon|colonic|c[ae]cum|sigmoid|appendi|hepatic flexure|splenic flexure",
    "rectum": r"\brect(?:um|al)\b|rectosigmoid", "large intestine": r"colorectal|large intestine|large bowel",
    "anus": r"\ban(?:us|al)\b", "small intestine": r"small intestine|duoden|jejun|\bile(?:um|al)\b",
    "liver": r"liver|hepat(?!ic flexure)|intrahepatic", "gallbladder": r"gallbladder|extrahepatic|ampulla",
    "stomach": r"stomach|gastric|pylor", "oesophagus": r"o?esophag", "pancreas": r"pancrea",
    "head and neck": HEAD_NECK, "thyroid": r"thyroid",
    "brain": r"\bbrain|cerebr(?!al meninges)|cerebell|supratentorial|infratentorial|diencephal|pontine",
    "meninges": r"mening", "spinal cord": r"spinal cord", "eye": r"\beyes?\b|ocular|orbit|retin|uvea|conjunctiv",
    "kidney": r"kidney|renal(?! pelvis)|nephr|wilms", "renal pelvis": r"renal pelvis", "ureter": r"\bureters?\b",
    "bladder": r"(?<!gall)bladder|urach", "urethra": r"urethra", "skin": r"\bskin\b|cutaneous",
    "ovary": r"ovar", "uterus": r"\buter(?:us|ine)\b|endometri|corpus uteri",
    "cervix": r"cervix|cervical (?:can|car|ade|neo)",
    "bone": r"\bbones?\b", "adrenal": r"adrenal", "lymph node": r"lymph nodes?",
}.items()}
COVERS = {  # a query about the key accepts members naming these
    "large intestine": {"colon", "rectum"}, "colon": {"large intestine"}, "rectum": {"large intestine"},
    "head and neck": {"thyroid"}, "skin": {"head and neck", "eye", "breast", "anus"}, "kidney": {"renal pelvis"},
}


@dataclass
class Query:
    curie: str
    group: str
    expected: set[str] = field(default_factory=set)
    excluded: dict[str, str] = field(default_factory=dict)


def read_queries(path: Path) -> dict[str, Query]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    groups: dict[str, Counter[str]] = defaultdict(Counter)
    queries: dict[str, Query] = {}
    for row in rows:
        if row["relation"] in ("member", "non-member"):
            groups[row["concept"]][row["note"].split(":")[0]] += 1
    for curie, counts in groups.items():
        queries[curie] = Query(curie, counts.most_common(1)[0][0])
    for row in rows:
        concept, relation, other = row["concept"], row["relation"], row["other"]
        if relation == "member" and concept in queries:
            queries[concept].expected.add(other)
        elif relation == "non-member" and concept in queries:
            queries[concept].excluded[other] = row["note"]
        elif relation == "same":
            for a, b in ((concept, other), (other, concept)):
                if a in queries:
                    queries[a].expected.add(b)
    return queries


# ---------------------------------------------------------------------------------------------- the judge
def organs(label: str) -> set[str]:
    return {name for name, rx in ORGANS.items() if rx.search(label)}


def scheme_code(curie: str) -> tuple[str, str]:
    scheme, _, code = curie.partition(":")
    return scheme, code


def is_morphology(curie: str) -> bool:
    scheme, code = scheme_code(curie)
    return scheme == "ICDO3" and bool(re.fullmatch(r"\d{4}/\d", code))


def is_topography(curie: str) -> bool:
    scheme, code = scheme_code(curie)
    return scheme == "ICDO3" and bool(re.fullmatch(r"C\d\d(?:\.\d)?", code))


@dataclass(frozen=True)
class Judge:
    """What the query is (malignant, a disease, a site, its organs), to judge its members by."""

    curie: str
    label: str

    @property
    def malignant(self) -> bool:
        scheme, code = scheme_code(self.curie)
        if scheme == "ICD10":
            return code.startswith("C")
        if is_morphology(self.curie):
            return code.endswith("/3")
        return bool(MALIGNANT.search(self.label)) and not any(rx.search(self.label) for rx in WORDS.values())

    @property
    def site(self) -> bool:
        return is_topography(self.curie)

    @property
    def organs(self) -> set[str]:
        named = organs(self.label)
        return named | {covered for organ in named for covered in COVERS.get(organ, ())}

    def reasons(self, curie: str, label: str) -> list[str]:
        out = self._structure(curie) if self.malignant else []
        if self.malignant:
            out += [f"label says '{word}'" for word, rx in WORDS.items()
                    if rx.search(label) and not rx.search(self.label)]
        out += self._kind(curie, label)
        member_organs = organs(label)
        if self.organs and member_organs and not member_organs & self.organs:
            out.append(f"names {', '.join(sorted(member_organs))}, not {', '.join(sorted(organs(self.label)))}")
        return out

    def _structure(self, curie: str) -> list[str]:
        scheme, code = scheme_code(curie)
        if scheme == "ICD10" and re.fullmatch(r"[CD]\d\d(?:\.\d+)?", code):
            head = code[:3]
            for first, last, what in (("D00", "D09", "in situ"), ("D10", "D36", "benign"),
                                      ("D37", "D48", "uncertain behaviour"), ("C77", "C79", "secondary")):
                if first <= head <= last:
                    return [f"ICD-10 {first}-{last}: {what}"]
        if is_morphology(curie) and code[-1] in BEHAVIOUR:
            return [f"ICD-O-3 behaviour /{code[-1]}: {BEHAVIOUR[code[-1]]}"]
        return []

    def _kind(self, curie: str, label: str) -> list[str]:
        if self.site:
            if is_morphology(curie) or scheme_code(curie)[0] == "ICD10" or DISEASE.search(label):
                return ["a disease or histology under a site (ICD-O-3 topography) query"]
            return []
        out = []
        if (self.organs or self.site) and is_morphology(curie):
            out.append("ICD-O-3 morphology (no site) under a site-specific query")
        if is_topography(curie) and (self.malignant or DISEASE.search(self.label)):
            out.append("ICD-O-3 topography: a site, not a disease")
        return out


# ---------------------------------------------------------------------------------------------- the run
@dataclass
class Tally:
    size: int = 0
    wrong: int = 0
    expected: int = 0
    found: int = 0
    absent: int = 0
    disagreements: int = 0
    queries: int = 0

    def add(self, other: Tally) -> None:
        for name in vars(self):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def line(self) -> str:
        return (f"expansion {self.size}, wrong {self.wrong} ({pct(self.wrong, self.size):.1f}%), "
                f"found {self.found}/{self.expected} ({pct(self.found, self.expected):.1f}%)")


def pct(part: int, whole: int) -> float:
    return 100.0 * part / whole if whole else 0.0


def name(onto: Hyperontology, curie: str) -> str:
    return f"{curie} '{onto.concept(curie).label}'" if curie in onto else f"{curie} (absent)"


def run_query(onto: Hyperontology, query: Query, brief: bool) -> Tally:
    tally = Tally(queries=1)
    if query.curie not in onto:
        tally.absent += len(query.expected)
        print(f"{query.curie} [{query.group}]: absent from the release")
        return tally
    judge = Judge(query.curie, onto.concept(query.curie).label)
    members = {c.curie: c.label for c in onto.expand(query.curie) if c.curie != query.curie}
    lines = []
    for curie, label in sorted(members.items()):
        reasons = judge.reasons(curie, label)
        if curie in query.excluded:
            reasons.insert(0, f"non-member fact ({query.excluded[curie]})")
        if reasons and curie in query.expected:
            tally.disagreements += 1
            lines.append(f"    judge?  {curie} '{label}': {'; '.join(reasons)} (the facts expect it)")
        elif reasons:
            tally.wrong += 1
            lines.append(f"    wrong   {curie} '{label}': {'; '.join(reasons)}")
    present = {c for c in query.expected if c in onto}
    tally.size, tally.expected, tally.absent = len(members), len(present), len(query.expected) - len(present)
    tally.found = len(present & members.keys())
    lines += [f"    missed  {name(onto, c)}" for c in sorted(present - members.keys())]
    print(f"{name(onto, query.curie)} [{query.group}]: {tally.line()}")
    if lines and not brief:
        print("\n".join(lines))
    return tally


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--facts", type=Path, default=FACTS, help="the facts TSV")
    parser.add_argument("--brief", action="store_true", help="one line per query, no member lines")
    args = parser.parse_args()
    onto = load_ontology(cache=False)
    queries = read_queries(args.facts)
    per_group: dict[str, Tally] = defaultdict(Tally)
    total = Tally()
    for curie in sorted(queries):
        tally = run_query(onto, queries[curie], args.brief)
        per_group[queries[curie].group].add(tally)
        total.add(tally)
    print("\nper group of queries:")
    for group, tally in sorted(per_group.items()):
        print(f"  {group:30} {tally.queries:3} queries: {tally.line()}")
    print(f"\n{total.queries} queries; {total.line()}")
    print(f"judge flags on members the facts expect (not counted): {total.disagreements}; "
          f"expected members absent from the release (not counted): {total.absent}")
    wrong, found = pct(total.wrong, total.size), pct(total.found, total.expected)
    print(f"target: at most {TARGET_WRONG:.0f}% wrong: {wrong:.2f}% -> {verdict(wrong <= TARGET_WRONG)}")
    print(f"target: at least {TARGET_FOUND:.0f}% found: {found:.2f}% -> {verdict(found >= TARGET_FOUND)}")


def verdict(met: bool) -> str:
    return "met" if met else "NOT MET"


if __name__ == "__main__":
    main()
