"""pilot2prod: an executable playbook for taking AI pilots to production."""

__version__ = "0.1.0"
