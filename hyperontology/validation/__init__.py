"""SHACL validation of CDM data: pyshacl's results, computed once per canonical form of instance.

:func:`validate_store` validates a whole store's data graph; :func:`validate_quads` a batch (ingest).
"""

from hyperontology.validation.shacl import Violation, validate_quads
from hyperontology.validation.store import validate_store

__all__ = ["Violation", "validate_quads", "validate_store"]
