"""Chapter 3: the ladder of approaches for a routing decision (rules to RAG)."""
