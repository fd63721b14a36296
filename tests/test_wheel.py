"""The built wheel is a whole Handover: installed into a fresh virtual environment outside the
repository, it has the three built-in forms (they ship inside the package, not in the
repository's plugins/ and forms/ folders that an editable install reads).

Slow (a wheel build and a venv, about ten seconds) but part of the normal suite: a wheel without
its forms starts a server with no forms, silently. The virtual environment borrows the test
environment's installed dependencies through a ``.pth`` line instead of downloading them, and
gets only the wheel itself installed, so the build needs at most setuptools from the network.
"""

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
#: What the wheel is built from: what pyproject.toml names, nothing else of the checkout.
SOURCES = ("pyproject.toml", "setup.py", "README.md", "handover", "plugins", "forms")
BUILT_IN_FORMS = {"daycare": "daycare_placed_child",
                  "pre_placement": "pre_placement_notice",
                  "psychiatric_ward": "psychiatric_ward_preinfo",
                  "school_transfer": "school_transfer"}


def outside_environment(**settings):
    """The environment without anything that points back into the checkout or the test run's
    instance (PYTHONPATH, HANDOVER_*, FLASK_*), plus ``settings``."""
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith(("HANDOVER_", "FLASK_")) and key != "PYTHONPATH"}
    return {**environment, **settings}


def run(command, **options):
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, **options)
    assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(wheel, python, handover script): the wheel built from a copy of the sources, and a
    fresh venv outside the repository with it installed."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    for name in SOURCES:
        origin = REPO / name
        if origin.is_dir():
            shutil.copytree(origin, source / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            source.mkdir(exist_ok=True)
            shutil.copy(origin, source / name)
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(work / "dist"),
         str(source)])
    wheel, = (work / "dist").glob("handover-*.whl")
    venv = work / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    python = venv / "bin" / "python"
    run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q",
         str(wheel)])
    # The dependencies: the test environment's site-packages, after the venv's own, so that
    # the wheel's handover is the one imported (this adds no editable finder: only .pth files
    # in a site directory itself are run).
    site = Path(run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                    env=outside_environment()).strip())
    (site / "zz_test_dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    return wheel, python, venv / "bin" / "handover"


def _shipped(folder, prefix):
    """Names the wheel must hold for the files of ``folder`` (caches left out)."""
    return {f"{prefix}/{path.relative_to(folder).as_posix()}" for path in folder.rglob("*")
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"}


@pytest.mark.slow
def test_the_wheel_holds_every_module_and_the_built_in_forms(installed):
    wheel, _python, _handover = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    modules = {name for name in _shipped(REPO / "handover", "handover") if name.endswith(".py")}
    assert modules <= names, sorted(modules - names)   # a package folder without __init__.py?
    assert _shipped(REPO / "plugins", "handover/builtin_plugins") <= names
    assert _shipped(REPO / "forms", "handover/builtin_forms") <= names
    assert not [name for name in names if name.startswith(("plugins/", "forms/"))]


@pytest.mark.slow
def test_the_wheel_installed_elsewhere_lists_the_three_built_in_forms(installed, tmp_path):
    _wheel, python, handover = installed
    environment = outside_environment(HANDOVER_INSTANCE_PATH=str(tmp_path / "instance"))
    where = run([str(python), "-c", "import handover, handover.builtin_plugins.daycare as p, "
                 "handover.builtin_forms as f; print(handover.__file__, p.__file__, f.__file__)"],
                cwd=tmp_path, env=environment)
    assert str(REPO) not in where and all("site-packages" in path for path in where.split())
    run([str(handover), "init"], cwd=tmp_path, env=environment)
    listing = run([str(handover), "plugins", "list"], cwd=tmp_path, env=environment)
    rows = {line.split("\t")[0]: line.split("\t") for line in listing.splitlines()
            if "\t" in line}
    for plugin, form_key in BUILT_IN_FORMS.items():
        assert rows[plugin][2:4] == ["built-in", "enabled"], listing
        assert rows[plugin][4].startswith(form_key + " v1"), listing
