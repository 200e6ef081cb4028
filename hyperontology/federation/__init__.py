"""Federated search: the node's answers to the infrastructure's explorer, and the federator that asks many nodes.

- :mod:`~hyperontology.federation.criteria`: the explorer's criteria as a tree, counted in one SPARQL query;
- :mod:`~hyperontology.federation.disclosure`: what a count may say before it leaves a node (:class:`Disclosure`);
- :mod:`~hyperontology.federation.nodes`: the member nodes of a federation (:func:`load_nodes`);
- :mod:`~hyperontology.federation.fanout`: one query to every node at once (:func:`federate`).
"""

from hyperontology.federation.disclosure import Disclosure
from hyperontology.federation.fanout import criteria_to_ast, federate, federate_sync
from hyperontology.federation.nodes import Federation, Node, load_nodes

__all__ = ["Disclosure", "Federation", "Node", "criteria_to_ast", "federate", "federate_sync", "load_nodes"]
