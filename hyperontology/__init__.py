"""hyperontology: semantic interoperability for cancer imaging.

One OWL hyperontology integrating the EUCAIM Hyper-Ontology with SNOMED CT, ICD-10, ICD-O-3, NCIt,
RadLex, DICOM, LOINC, ATC, UCUM and TNM, and the tools to map data to its common data model.

Examples
--------
>>> import hyperontology
>>> onto = hyperontology.load_ontology()
>>> onto.concept("SCT:363358000").label
'Malignant tumor of lung'
"""

import typing as _typing

from hyperontology.errors import (
    HyperontologyError,
    OntologyError,
    OntologyLoadError,
    ReasonerError,
    ReleaseImportError,
    UnknownConceptError,
    UnknownPrefixError,
)
from hyperontology.ontology import Concept, Hyperontology, SearchHit, load_ontology
from hyperontology.prefixes import PREFIXES

if _typing.TYPE_CHECKING:
    from pathlib import Path

    from hyperontology.client import Client


def connect(target: "str | Path") -> "Client":
    """A client for a node: a store directory (embedded) or the URL of a ``hyperontology serve`` endpoint.

    ``.query(sparql)`` gives a pandas DataFrame; ``.cohort(...)``, ``.search(...)``, ``.expand(...)`` as the API.
    See :mod:`hyperontology.client`.
    """
    from hyperontology.client import connect as _connect

    return _connect(target)

__version__ = "0.1.0"

__all__ = [
    "PREFIXES",
    "Concept",
    "Hyperontology",
    "HyperontologyError",
    "OntologyError",
    "OntologyLoadError",
    "ReasonerError",
    "ReleaseImportError",
    "SearchHit",
    "UnknownConceptError",
    "UnknownPrefixError",
    "__version__",
    "connect",
    "load_ontology",
]
