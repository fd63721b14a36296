"""The one thing pyproject.toml cannot say: the package list. It is every package under
handover/, found as packages are added, plus the built-in forms, which live in the repository's
top-level plugins/ and forms/ folders and are mapped into the package by
``[tool.setuptools.package-dir]`` (discovery cannot find a renamed folder). Everything else
about the distribution is in pyproject.toml."""

from setuptools import find_packages, setup

setup(packages=[*find_packages(include=["handover", "handover.*"]),
                "handover.builtin_plugins", "handover.builtin_forms"])
