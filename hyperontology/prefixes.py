"""CURIE prefixes of the hyperontology and conversion between CURIEs and IRIs.

Examples
--------
>>> from hyperontology.prefixes import curie_to_iri, iri_to_curie
>>> curie_to_iri("SCT:254637007")
'http://snomed.info/id/254637007'
>>> iri_to_curie("https://cancerimage.eu/ontology/EUCAIM#CLIN1000065")
'EUCAIM:CLIN1000065'
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from urllib.parse import quote, unquote

from hyperontology.errors import UnknownPrefixError

HO = "https://w3id.org/hyperontology/"

_PREFIXES: dict[str, str] = {
    # the project's own vocabularies
    "ho": HO,
    "cdm": HO + "cdm#",
    "TNM": HO + "tnm/",
    # the infrastructure's Hyper-Ontology (the hub)
    "EUCAIM": "https://cancerimage.eu/ontology/EUCAIM#",
    # standard terminologies
    "SCT": "http://snomed.info/id/",
    "NCIT": "http://purl.obolibrary.org/obo/NCIT_",
    "LOINC": "http://loinc.org/rdf#",
    "DCM": "http://dicom.nema.org/resources/ontology/DCM/",
    "RADLEX": "http://radlex.org/RID/",
    "ICD10": "http://purl.bioontology.org/ontology/ICD10/",
    "ICDO3": "http://purl.bioontology.org/ontology/ICDO3/",
    "ATC": "http://purl.bioontology.org/ontology/ATC/",
    "UCUM": "http://unitsofmeasure.org/",
    "BIRNLEX": "http://bioontology.org/projects/ontologies/birnlex#",
    "UMLS": "http://linkedlifedata.com/resource/umls/id/",
    # W3C and metadata vocabularies
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dcterms": "http://purl.org/dc/terms/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "prov": "http://www.w3.org/ns/prov#",
    "sh": "http://www.w3.org/ns/shacl#",
    "semapv": "https://w3id.org/semapv/vocab/",
    "sssom": "https://w3id.org/sssom/",
}

#: CURIE prefix -> namespace IRI (read-only).
PREFIXES: Mapping[str, str] = MappingProxyType(_PREFIXES)

# Codes of these terminologies may hold characters that are not safe in an IRI path.
_QUOTED = {"UCUM"}
# Longest namespace first, so that e.g. ``cdm#`` wins over the ``ho`` root.
_BY_LENGTH = sorted(_PREFIXES.items(), key=lambda item: len(item[1]), reverse=True)


def curie_to_iri(curie: str) -> str:
    """Expand a CURIE (``SCT:254637007``) to its IRI; raise UnknownPrefixError for unknown prefixes."""
    prefix, sep, local = curie.partition(":")
    if not sep or prefix not in _PREFIXES:
        raise UnknownPrefixError(f"unknown CURIE prefix in {curie!r}; known: {', '.join(sorted(_PREFIXES))}")
    if prefix in _QUOTED:
        local = quote(local, safe="")
    return _PREFIXES[prefix] + local


def iri_to_curie(iri: str) -> str | None:
    """Compress an IRI to a CURIE with the longest matching namespace, or None."""
    for prefix, namespace in _BY_LENGTH:
        if iri.startswith(namespace) and len(iri) > len(namespace):
            local = iri[len(namespace):]
            return f"{prefix}:{unquote(local) if prefix in _QUOTED else local}"
    return None
