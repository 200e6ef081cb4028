"""The package exports exactly its public names (httpx's test of the same name)."""

import types

import hyperontology

PUBLIC = {
    "PREFIXES", "Concept", "Hyperontology", "HyperontologyError", "OntologyError", "OntologyLoadError",
    "ReasonerError", "ReleaseImportError", "SearchHit", "UnknownConceptError", "UnknownPrefixError",
    "__version__", "connect", "load_ontology",
}


def test_all_lists_exactly_the_public_names() -> None:
    assert set(hyperontology.__all__) == PUBLIC
    exported = {name for name in dir(hyperontology) if not name.startswith("_") or name == "__version__"}
    submodules = {n for n in exported if isinstance(getattr(hyperontology, n), types.ModuleType)}
    assert exported - submodules == PUBLIC


def test_every_exported_name_is_documented() -> None:
    for name in hyperontology.__all__:
        obj = getattr(hyperontology, name)
        if callable(obj):
            assert obj.__doc__, name
