"""The hyperontology: loading, look-up, hierarchy, expansion, search, checks and release import."""

from hyperontology.ontology.api import Hyperontology, load_ontology
from hyperontology.ontology.index import Concept
from hyperontology.ontology.search import SearchHit

__all__ = ["Concept", "Hyperontology", "SearchHit", "load_ontology"]
