"""The subsumption closure: ``?code ho:subsumedBy ?concept`` for every concept a query for ``?concept`` must match.

It materialises :meth:`hyperontology.ontology.api.Hyperontology.expand` (is-a descendants, exact and narrower
matches across terminologies, and the concept itself) as triples, loaded into a node's ontology graph with
the hyperontology. Plain SPARQL then matches across terminologies with one join, as fast as any other::

    ?d cdm:diagnosisCode/ho:subsumedBy sct:363358000 .

About 390,000 triples for the bundled release, computed in well under a second.

Examples
--------
>>> from hyperontology import load_ontology
>>> onto = load_ontology()
>>> pairs = {(t.subject.value, t.object.value) for t in subsumption_triples(onto)}
>>> nsclc, lung_cancer = onto.concept("NCIT:C2926").iri, onto.concept("SCT:363358000").iri
>>> (nsclc, lung_cancer) in pairs, (lung_cancer, lung_cancer) in pairs, (lung_cancer, nsclc) in pairs
(True, True, False)
"""

from __future__ import annotations

from collections.abc import Iterator

import pyoxigraph as ox

from hyperontology.ontology.api import Hyperontology
from hyperontology.prefixes import HO

SUBSUMED_BY = ox.NamedNode(HO + "subsumedBy")
_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_RDFS = "http://www.w3.org/2000/01/rdf-schema#"
_OWL = "http://www.w3.org/2002/07/owl#"


def declaration() -> list[ox.Triple]:
    """The property's own description (loaded with the closure)."""
    return [
        ox.Triple(SUBSUMED_BY, ox.NamedNode(_RDF + "type"), ox.NamedNode(_OWL + "ObjectProperty")),
        ox.Triple(SUBSUMED_BY, ox.NamedNode(_RDF + "type"), ox.NamedNode(_OWL + "TransitiveProperty")),
        ox.Triple(SUBSUMED_BY, ox.NamedNode(_RDF + "type"), ox.NamedNode(_OWL + "ReflexiveProperty")),
        ox.Triple(SUBSUMED_BY, ox.NamedNode(_RDFS + "label"), ox.Literal("subsumed by", language="en")),
        ox.Triple(SUBSUMED_BY, ox.NamedNode(_RDFS + "comment"), ox.Literal(
            "A query for the object concept must match the subject concept: the subject is the object itself, one of "
            "its is-a descendants, or reached from it by exact or narrower matches across terminologies "
            "(materialised from the hyperontology; reflexive and transitive).", language="en")),
    ]


def subsumption_triples(onto: Hyperontology) -> Iterator[ox.Triple]:
    """``code ho:subsumedBy concept`` for every concept and every code its expansion reaches (itself included)."""
    yield from declaration()
    for concept in onto:
        target = ox.NamedNode(concept.iri)
        for member in onto.expand(concept.iri):
            yield ox.Triple(ox.NamedNode(member.iri), SUBSUMED_BY, target)


__all__ = ["SUBSUMED_BY", "declaration", "subsumption_triples"]
