"""The bundled sample company (ACME Support) and its planted truth."""

from pilot2prod.sample_company.generator import SEED, GeneratedCompany, generate, write

__all__ = ["SEED", "GeneratedCompany", "generate", "write"]
