"""Chapter 2 building blocks: the data audit (personal data detection so far)."""
