"""Regenerate the sample company: ``python datasets/generate.py`` (deterministic)."""

from pathlib import Path

from pilot2prod.sample_company import SEED, generate, write

if __name__ == "__main__":
    target = Path(__file__).resolve().parent / "acme"
    write(generate(SEED), target)
    print(f"Sample company written to {target}")
