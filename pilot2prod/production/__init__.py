"""Chapter 4: the production path (drift monitoring so far; the registry, the service and the
readiness rubric follow, see issue 11)."""
