"""Chapter 4: the production path from day one - a registry with lineage and a promotion gate,
a rollback drill, a service behind a feature flag, drift and contract monitoring, service
levels, alerts and a runbook, cost, and a readiness score with a go/no-go."""

from pilot2prod.lazy import lazy_attributes
from pilot2prod.production.params import Parameters

_LAZY = {
    "Result": "pilot2prod.production.result",
    "run": "pilot2prod.production.result",
}

__all__ = ["Parameters", "Result", "run"]


__getattr__ = lazy_attributes(_LAZY, globals())
