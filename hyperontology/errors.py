"""Exceptions raised by hyperontology.

Every error the library raises derives from :class:`HyperontologyError`; errors of third-party
libraries (rdflib, pyoxigraph, owlready2, pydicom, ...) are translated at the boundary with
``raise ... from exc`` and carry the input they concern. A SHACL violation or an ontology check
finding is a *report*, not an exception.

Hierarchy::

    HyperontologyError
    ├── OntologyError                 the hyperontology cannot be loaded or used
    │   ├── OntologyLoadError         a module is missing, unreadable or not valid RDF (names the file)
    │   ├── UnknownConceptError       a CURIE/IRI/code that is not a concept of the hyperontology
    │   ├── UnknownPrefixError        a CURIE prefix that PREFIXES does not define
    │   └── ReasonerError             the OWL reasoner could not run (e.g. no Java)
    ├── ReleaseImportError            a release file given to ``ontology import`` is unusable
    ├── MappingError                  a mapping file is invalid (file:line: [rule] message), mapping.model
    ├── ValueMapError                 a value map is malformed, mapping.valuemaps
    ├── KeyMissingError               no usable pseudonymization key, pseudonymize.keys
    ├── StoreError                    the store cannot be opened or written, store.oxigraph
    ├── ExecutorError                 the ingest's workers cannot run it (a Dask scheduler that cannot be reached,
    │                                 a task whose workers all died, a broken process pool), executors
    └── AuthConfigError               a server configuration file is invalid, server.settings
"""

from __future__ import annotations


class HyperontologyError(Exception):
    """Base class of every error raised by hyperontology."""


class OntologyError(HyperontologyError):
    """The hyperontology cannot be loaded or used."""


class OntologyLoadError(OntologyError):
    """A module of the hyperontology is missing, unreadable or not valid RDF."""

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path


class UnknownConceptError(OntologyError, KeyError):
    """A CURIE, IRI or code that is not a concept of the hyperontology."""

    def __init__(self, ref: str, *, hint: str = "") -> None:
        text = f"unknown concept {ref!r}" + (f"; {hint}" if hint else "")
        super().__init__(text)
        self.ref = ref

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class UnknownPrefixError(OntologyError, ValueError):
    """A CURIE prefix that :data:`hyperontology.PREFIXES` does not define."""


class ReasonerError(OntologyError):
    """The OWL reasoner could not be run or failed (not the same as an inconsistent ontology)."""


class ReleaseImportError(HyperontologyError):
    """A release file given to ``hyperontology ontology import`` is unusable."""

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path


class ExecutorError(HyperontologyError):
    """The ingest's workers cannot run it: a Dask scheduler that cannot be reached (the message names its
    address), a task whose workers all died or a lost scheduler, a local process pool broken by a killed worker."""
