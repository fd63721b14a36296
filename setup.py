"""What pyproject.toml cannot say.

The package list: every package under handover/, found as packages are added, plus the built-in
forms, which live in the repository's top-level plugins/ and forms/ folders and are mapped into
the package by ``[tool.setuptools.package-dir]`` (discovery cannot find a renamed folder).

The compiled translations: the catalogues (``handover/translations/*/LC_MESSAGES/messages.po``)
are in the repository, their compiled ``.mo`` files are not (they are built, and ignored by
git), so every build compiles them into what it builds, with Babel (``[build-system]
requires``), as ``pybabel compile`` would: a wheel of a clean checkout speaks Finnish and
Swedish. An editable install reads the catalogues from the checkout; ``scripts/install``
compiles them there.

Everything else about the distribution is in pyproject.toml."""

from pathlib import Path

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
CATALOGUES = "handover/translations"


class BuildPyWithTranslations(build_py):
    """``build_py``, then each ``.po`` catalogue compiled to ``.mo`` beside its copy."""

    def run(self):
        super().run()
        if not getattr(self, "editable_mode", False):
            for catalogue in self._catalogues():
                self._compile(catalogue)

    def get_outputs(self, include_bytecode=True):
        outputs = super().get_outputs(include_bytecode)
        if getattr(self, "editable_mode", False):
            return outputs
        compiled = [str(self._compiled(catalogue)) for catalogue in self._catalogues()]
        return [*outputs, *(path for path in compiled if path not in outputs)]

    def _catalogues(self):
        """The catalogues, relative to this folder (as the package's files are built)."""
        return sorted(path.relative_to(HERE)
                      for path in (HERE / CATALOGUES).glob("*/LC_MESSAGES/*.po"))

    def _compiled(self, catalogue):
        return Path(self.build_lib, catalogue).with_suffix(".mo")

    def _compile(self, catalogue):
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        with (HERE / catalogue).open("rb") as handle:
            messages = read_po(handle, locale=catalogue.parent.parent.name)
        if messages.fuzzy:  # pybabel compile would skip it, silently leaving English
            raise SystemExit(f"{catalogue} is marked fuzzy as a whole; fix it before building")
        target = self._compiled(catalogue)
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("wb") as handle:
            write_mo(handle, messages)  # fuzzy entries are left out, as pybabel compile does
        self.announce(f"compiled {catalogue} -> {target}", level=2)


setup(packages=[*find_packages(include=["handover", "handover.*"]),
                "handover.builtin_plugins", "handover.builtin_forms"],
      cmdclass={"build_py": BuildPyWithTranslations})
