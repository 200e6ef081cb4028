"""A client for notebooks and scripts: one API over a local store or a ``hyperontology serve`` endpoint.

:func:`connect` opens a store directory read-only (embedded pyoxigraph) or talks HTTP to a node; either way
:meth:`Client.query` returns a :class:`pandas.DataFrame`, and :meth:`Client.cohort`, :meth:`Client.search` and
:meth:`Client.expand` give the same answers as the node's ``/api`` routes.

Examples
--------
>>> client = connect("/data/node/store")                      # doctest: +SKIP
>>> client.cohort(diagnosis=["SCT:363358000"], modality=["RADLEX:RID10321"])  # doctest: +SKIP
{'patients': 1, 'studies': 1, 'series': 1, 'sparql': 'PREFIX cdm: ...'}
>>> remote = connect("http://localhost:8000")                  # doctest: +SKIP
>>> remote.query("SELECT ?s WHERE { ?s a ?c } LIMIT 3")        # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pandas as pd  # type: ignore[import-untyped,unused-ignore]  # pandas-stubs optional
import pyoxigraph as ox

from hyperontology.errors import HyperontologyError, UnknownConceptError
from hyperontology.ontology import Hyperontology, load_ontology
from hyperontology.search.cohort import CohortCriteria, run_cohort
from hyperontology.store.base import Store, StoreError
from hyperontology.store.oxigraph import NodeStore

XSD = "http://www.w3.org/2001/XMLSchema#"
_INTEGERS = {XSD + t for t in ("integer", "int", "long", "short", "byte", "nonNegativeInteger", "positiveInteger",
                               "nonPositiveInteger", "negativeInteger", "unsignedInt", "unsignedLong",
                               "unsignedShort", "unsignedByte")}
_FLOATS = {XSD + "decimal", XSD + "double", XSD + "float"}
_COLLECTION_COLUMNS = ["id", "name", "subjects", "studies"]
_SEARCH_COLUMNS = ["curie", "iri", "label", "scheme", "score", "match"]
_EXPAND_COLUMNS = ["curie", "label", "scheme"]
_CRITERIA = ("diagnosis", "modality", "body_site", "sex", "stage")


class ClientError(HyperontologyError):
    """A query or request the client could not run (the message carries the node's answer)."""


def python_value(value: str, datatype: str | None) -> str | int | float | bool:
    """A literal's lexical form as a Python value: integers, decimals/doubles and booleans converted.

    Examples
    --------
    >>> python_value("42", XSD + "integer"), python_value("0.5", XSD + "decimal"), python_value("true", XSD + "boolean")
    (42, 0.5, True)
    >>> python_value("2018-12-01T00:00:00", XSD + "dateTime")
    '2018-12-01T00:00:00'
    """
    try:
        if datatype in _INTEGERS:
            return int(value)
        if datatype in _FLOATS:
            return float(value)
    except ValueError:
        return value
    if datatype == XSD + "boolean":
        return value.strip() in ("true", "1")
    return value


def _term_value(term: Any) -> str | int | float | bool | None:
    if term is None:
        return None
    if isinstance(term, ox.Literal):
        return python_value(term.value, term.datatype.value)
    return str(term.value)


def _json_value(binding: dict[str, str] | None) -> str | int | float | bool | None:
    if binding is None:
        return None
    return python_value(binding["value"], binding.get("datatype")) if binding["type"] in (
        "literal", "typed-literal") else binding["value"]


def _criteria(criteria: dict[str, Any]) -> CohortCriteria:
    unknown = set(criteria) - {*_CRITERIA, "age_min", "age_max"}
    if unknown:
        raise TypeError(f"unknown cohort criteria: {sorted(unknown)}; use {[*_CRITERIA, 'age_min', 'age_max']}")
    coded = {name: (criteria[name],) if isinstance(criteria.get(name), str) else tuple(criteria.get(name) or ())
             for name in _CRITERIA}
    return CohortCriteria(**coded, age_min=criteria.get("age_min"), age_max=criteria.get("age_max"))


class Client:
    """Query a node: SPARQL into DataFrames, cohort counts, term search and concept expansion.

    Use :func:`connect` to make one; close it (or use it in a ``with`` block) when done.
    """

    def __init__(self, *, store: Store | None = None, http: httpx.Client | None = None,
                 ontology: Hyperontology | None = None) -> None:
        if (store is None) == (http is None):
            raise ValueError("a Client needs exactly one of store= and http=")
        self._store = store
        self._http = http
        self._ontology = ontology

    @property
    def ontology(self) -> Hyperontology:
        """The hyperontology (loaded on first use; local clients only need it)."""
        if self._ontology is None:
            self._ontology = load_ontology()
        return self._ontology

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
        if self._store is not None:
            self._store.close()
        self._store = None

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---------------------------------------------------------------------------------------------- SPARQL
    def query(self, sparql: str) -> pd.DataFrame:
        """Run a SPARQL SELECT; one column per variable, values as str/int/float/bool, None when unbound.

        The default graph is the union of the node's graphs (as on the node's ``/sparql``).

        Examples
        --------
        >>> connect("/data/node/store").query("SELECT ?d WHERE { ?d a <https://w3id.org/hyperontology/cdm#Diagnosis> }")  # doctest: +SKIP
        """  # noqa: E501
        if self._http is not None:
            return self._query_http(sparql)
        assert self._store is not None, "the client is closed"
        try:
            result = self._store.query(sparql)
        except SyntaxError as exc:
            raise ClientError(f"invalid SPARQL: {exc}") from exc
        if not isinstance(result, ox.QuerySolutions):
            raise ClientError("Client.query runs SELECT queries only")
        names = [v.value for v in result.variables]
        rows = [[_term_value(solution[name]) for name in names] for solution in result]
        return pd.DataFrame(rows, columns=names)

    def _query_http(self, sparql: str) -> pd.DataFrame:
        assert self._http is not None
        response = self._http.post("/sparql", data={"query": sparql},
                                   headers={"Accept": "application/sparql-results+json"})
        if response.status_code != 200:
            raise ClientError(f"{response.request.url}: {response.status_code} {response.text.strip()}")
        body = response.json()
        if "results" not in body:
            raise ClientError("Client.query runs SELECT queries only")
        names = list(body["head"]["vars"])
        rows = [[_json_value(b.get(name)) for name in names] for b in body["results"]["bindings"]]
        return pd.DataFrame(rows, columns=names)

    # ---------------------------------------------------------------------------------------------- API
    def cohort(self, **criteria: Any) -> dict[str, Any]:
        """Count the patients, studies and series meeting the criteria (OR within one, AND across them).

        Criteria: ``diagnosis``, ``modality``, ``body_site``, ``sex``, ``stage`` (a CURIE/IRI or a list of them,
        expanded across terminologies), ``age_min`` and ``age_max`` (years at diagnosis).

        Examples
        --------
        >>> connect("/data/node/store").cohort(diagnosis="SCT:363358000", age_min=50)  # doctest: +SKIP
        {'patients': 1, 'studies': 1, 'series': 1, 'sparql': '...'}
        """
        wanted = _criteria(criteria)
        if self._http is None:
            assert self._store is not None, "the client is closed"
            return run_cohort(self._store, wanted, self.ontology)
        body: dict[str, Any] = {name: list(getattr(wanted, name)) for name in _CRITERIA}
        if wanted.age_min is not None or wanted.age_max is not None:
            body["age"] = {"min": wanted.age_min, "max": wanted.age_max}
        return dict(self._api("POST", "/api/cohort", json=body))

    def collections(self, criteria: dict[str, Any] | None = None) -> pd.DataFrame:
        """Per dataset of the node, the subjects and studies meeting ``criteria``: the explorer's tree
        (``{"ast": ...}``) or the cohort criteria (``{"diagnosis": [...], "age": {"min": 50}}``); None: everyone.
        Columns id, name, subjects, studies. Over HTTP the node's disclosure control applies (``"<10"``);
        on a store of one's own the counts are exact. An unknown key or value is a :class:`ClientError`.

        Examples
        --------
        >>> connect("/data/node/store").collections({"diagnosis": ["SCT:363358000"]})  # doctest: +SKIP
        """
        body = criteria if criteria is not None else {}
        if self._http is not None:
            rows = self._api("POST", "/api/cohort/collections", json=body)["collections"]
            return pd.DataFrame([[r["id"], r["name"], r["subjects_count"], r["studies_count"]] for r in rows],
                                columns=_COLLECTION_COLUMNS)
        assert self._store is not None, "the client is closed"
        from hyperontology.federation.collections import count_collections

        try:
            counted = count_collections(self._store, body, self.ontology)
        except ValueError as exc:
            raise ClientError(str(exc)) from exc
        return pd.DataFrame(counted, columns=_COLLECTION_COLUMNS)

    def search(self, text: str, limit: int = 10) -> pd.DataFrame:
        """Concepts whose code, label or synonym match ``text``, best first (columns curie, iri, label, ...).

        Examples
        --------
        >>> connect("/data/node/store").search("NSCLC", limit=3)["curie"].tolist()  # doctest: +SKIP
        ['NCIT:C2926', ...]
        """
        if self._http is not None:
            hits = self._api("GET", "/api/terms", params={"q": text, "limit": limit})
            return pd.DataFrame(hits, columns=_SEARCH_COLUMNS)
        rows = [[h.concept.curie, h.concept.iri, h.concept.label, h.concept.scheme, h.score, h.match]
                for h in self.ontology.search(text, limit=limit)]
        return pd.DataFrame(rows, columns=_SEARCH_COLUMNS)

    def expand(self, curie: str) -> pd.DataFrame:
        """Every concept a query for ``curie`` must match, across terminologies (columns curie, label, scheme).

        Examples
        --------
        >>> "NCIT:C3512" in connect("/data/node/store").expand("SCT:363358000")["curie"].tolist()  # doctest: +SKIP
        True
        """
        if self._http is not None:
            concepts = self._api("GET", f"/api/expand/{curie}")["concepts"]
            return pd.DataFrame(concepts, columns=_EXPAND_COLUMNS)
        rows = [[c.curie, c.label, c.scheme] for c in self.ontology.expand(curie)]
        return pd.DataFrame(rows, columns=_EXPAND_COLUMNS)

    def _api(self, method: str, path: str, **kwargs: Any) -> Any:
        assert self._http is not None
        response = self._http.request(method, path, **kwargs)
        if response.status_code == 404 and path.startswith(("/api/cohort", "/api/expand")):
            raise UnknownConceptError(_unknown_concept(response, path, kwargs.get("json")))
        if response.status_code != 200:
            raise ClientError(f"{response.request.url}: {response.status_code} {response.text.strip()}")
        return response.json()


def _unknown_concept(response: httpx.Response, path: str, body: Any) -> str:
    """The concept a 404 is about: the server names the criterion and its index, never the value sent."""
    detail = response.json().get("detail")
    if isinstance(detail, dict) and isinstance(body, dict) and "index" in detail:
        try:
            return str(body[detail["field"]][detail["index"]])
        except (KeyError, IndexError, TypeError):
            pass
    return path.rsplit("/", 1)[-1]


def connect(target: str | Path, *, timeout: float = 60.0, ontology: Hyperontology | None = None) -> Client:
    """A :class:`Client` for a store directory (opened read-only) or an ``http(s)://`` node URL.

    Examples
    --------
    >>> connect("/no/such/store")
    Traceback (most recent call last):
    ...
    hyperontology.client.ClientError: /no/such/store: no store there
    """
    text = str(target)
    if text.startswith(("http://", "https://")):
        return Client(http=httpx.Client(base_url=text.rstrip("/"), timeout=timeout), ontology=ontology)
    try:
        store = NodeStore(Path(text), read_only=True)
    except StoreError as exc:
        raise ClientError(str(exc)) from exc
    return Client(store=store, ontology=ontology)


__all__ = ["Client", "ClientError", "connect", "python_value"]
