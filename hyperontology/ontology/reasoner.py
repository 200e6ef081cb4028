"""OWL consistency with HermiT (owlready2; needs Java), run on the logical axioms of the hyperontology.

Annotations are dropped before reasoning (they do not change consistency) so that owlready2 loads a
quarter of the triples. The reasoner runs in a child process so that a hung JVM can be stopped.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from hyperontology.errors import ReasonerError

LOGICAL_PREDICATES = {
    "http://www.w3.org/2000/01/rdf-schema#subClassOf", "http://www.w3.org/2000/01/rdf-schema#domain",
    "http://www.w3.org/2000/01/rdf-schema#range", "http://www.w3.org/2000/01/rdf-schema#subPropertyOf",
}
LOGICAL_NAMESPACES = ("http://www.w3.org/2002/07/owl#", "http://www.w3.org/1999/02/22-rdf-syntax-ns#")
OWL_VERSION_PREDICATES = {"http://www.w3.org/2002/07/owl#versionInfo", "http://www.w3.org/2002/07/owl#versionIRI",
                          "http://www.w3.org/2002/07/owl#imports", "http://www.w3.org/2002/07/owl#priorVersion"}

_CHILD = r"""
import json, sys, owlready2
world = owlready2.World()
onto = world.get_ontology("file://" + sys.argv[1]).load()
try:
    with onto:
        owlready2.sync_reasoner_hermit(world, infer_property_values=False, debug=0)
except owlready2.OwlReadyInconsistentOntologyError:
    print(json.dumps({"consistent": False, "unsatisfiable": []})); sys.exit(0)
bad = [c.iri for c in world.inconsistent_classes() if c is not owlready2.Nothing]
print(json.dumps({"consistent": True, "unsatisfiable": bad}))
"""


@dataclass(frozen=True)
class Problem:
    subject: str
    message: str


@dataclass
class ReasonerResult:
    consistent: bool
    unsatisfiable: list[str] = field(default_factory=list)
    axioms: int = 0
    seconds: float = 0.0

    @property
    def problems(self) -> list[Problem]:
        out = [] if self.consistent else [Problem("hyperontology", "the ontology is inconsistent (HermiT)")]
        return out + [Problem(c, "unsatisfiable class (HermiT)") for c in self.unsatisfiable]


def logical_triples(store: ox.Store) -> list[ox.Triple]:
    keep = []
    for quad in store:
        pred = quad.predicate.value
        if pred in LOGICAL_PREDICATES or (pred.startswith(LOGICAL_NAMESPACES) and pred not in OWL_VERSION_PREDICATES):
            keep.append(ox.Triple(quad.subject, quad.predicate, quad.object))
    return keep


def run_hermit(store: ox.Store, *, timeout: float = 600.0) -> ReasonerResult:
    """Classify with HermiT; ReasonerError when Java or the reasoner is unavailable or fails."""
    if shutil.which("java") is None:
        raise ReasonerError("HermiT needs Java (a JRE 8+ on PATH); install it or run the check with --no-reasoner")
    triples = logical_triples(store)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="hyperontology-reasoner-") as tmp:
        path = Path(tmp) / "logic.nt"
        ox.serialize(triples, output=str(path), format=ox.RdfFormat.N_TRIPLES)
        try:
            proc = subprocess.run([sys.executable, "-c", _CHILD, str(path)], capture_output=True, text=True,  # noqa: S603
                                  timeout=timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            raise ReasonerError(f"HermiT did not finish within {timeout:.0f} s") from exc
    if proc.returncode != 0 or not proc.stdout.strip():
        raise ReasonerError(f"HermiT failed: {proc.stderr.strip()[-800:]}")
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    return ReasonerResult(data["consistent"], sorted(data["unsatisfiable"]), len(triples),
                          time.perf_counter() - started)
