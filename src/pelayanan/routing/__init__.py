"""Where requests go: routing rules, assignment within a unit, disposisi, configuration.

* `RoutingTable` and `Rule` (``_rules``): the unit a request goes to, by its attributes
  and region code;
* `AssignmentPolicy` (``_assignment``): the officer inside a unit who gets it;
* disposisi (``_disposisi``): routing orders from a superior, kept in a request's meta,
  and the routing trail read back from the log;
* `RoutingConfig` and `load_routing_config` (``_config``): the routing file.

Everything here is pure: the desk commits what these functions decide.
"""

from pelayanan.routing._assignment import (
    STRATEGIES,
    AssignmentDecision,
    AssignmentPolicy,
    Officer,
)
from pelayanan.routing._config import RoutingConfig, load_routing_config, routing_config_from_dict
from pelayanan.routing._disposisi import (
    DispositionTarget,
    TrailStep,
    close_disposition,
    find_open,
    issue,
    open_children,
    open_dispositions,
    routing_trail,
)
from pelayanan.routing._rules import (
    ATTRIBUTES,
    REGION_LEVELS,
    Region,
    RoutingDecision,
    RoutingTable,
    Rule,
)

__all__ = [
    "ATTRIBUTES",
    "REGION_LEVELS",
    "STRATEGIES",
    "AssignmentDecision",
    "AssignmentPolicy",
    "DispositionTarget",
    "Officer",
    "Region",
    "RoutingConfig",
    "RoutingDecision",
    "RoutingTable",
    "Rule",
    "TrailStep",
    "close_disposition",
    "find_open",
    "issue",
    "load_routing_config",
    "open_children",
    "open_dispositions",
    "routing_config_from_dict",
    "routing_trail",
]
