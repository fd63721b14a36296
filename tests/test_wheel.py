"""The built wheel is a whole Handover: built from what a fresh clone holds and installed into
a fresh virtual environment outside the repository, it has every module, the built-in forms
(they ship inside the package, not in the repository's plugins/ and forms/ folders that an
editable install reads), the compiled translations (the ``.mo`` files are built, never
committed: the build compiles them) and the WSGI app gunicorn is pointed at.

Slow (a wheel build and a venv, about twenty seconds), so one test, but part of the normal
suite: a wheel without its forms starts a server with no forms, and one without its ``.mo``
files an English-only one, silently. The sources are the files git would put in a clone (the
tracked ones with their current contents, and new ones not yet added but not ignored), never
the working tree as it lies, which has the ``.mo`` files ``scripts/install`` compiled. The
virtual environment borrows the test environment's installed dependencies through a ``.pth``
line instead of downloading them, and gets only the wheel itself installed, so the build needs
at most its build requirements (setuptools, Babel) from the package index.
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
TRANSLATIONS = ("fi", "sv")


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


def clone_files():
    """The files of ``SOURCES`` that a clone of this working tree would hold, relative to the
    repository: git's tracked files (as they are now) and the untracked ones it does not
    ignore. Ignored files (compiled translations, caches, build leftovers) are left out."""
    listed = run(["git", "-C", str(REPO), "ls-files", "-z", "--cached", "--others",
                  "--exclude-standard", "--", *SOURCES])
    return sorted({name for name in listed.split("\0") if name and (REPO / name).is_file()})


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(wheel, python, handover script): the wheel built from a clean copy of the sources, and
    a fresh venv outside the repository with it installed."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    for name in clone_files():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, source / name)
    assert not list(source.rglob("*.mo")), "the copy holds only what a clone holds"
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


#: Run in the installed venv with an initialised instance: the app gunicorn serves
#: (`'handover:create_app()'`), its login page in the default language, and where it came from.
SERVE = """
import handover
app = handover.create_app()
page = app.test_client().get("/login").get_data(as_text=True)
print(handover.__file__)
print("Kirjaudu sisään" in page, ">Log in<" in page)
"""


@pytest.mark.slow
def test_the_wheel_of_a_clean_checkout_is_a_whole_handover(installed, tmp_path):
    wheel, python, handover = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    modules = {name for name in _shipped(REPO / "handover", "handover") if name.endswith(".py")}
    assert modules <= names, sorted(modules - names)   # a package folder without __init__.py?
    assert _shipped(REPO / "plugins", "handover/builtin_plugins") <= names
    assert _shipped(REPO / "forms", "handover/builtin_forms") <= names
    assert not [name for name in names if name.startswith(("plugins/", "forms/"))]
    for language in TRANSLATIONS:
        assert f"handover/translations/{language}/LC_MESSAGES/messages.mo" in names, language

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

    # What gunicorn serves with `'handover:create_app()'` from any folder: Finnish by default.
    served = run([str(python), "-c", SERVE], cwd=tmp_path, env=environment).splitlines()
    assert "site-packages" in served[0] and str(REPO) not in served[0], served
    assert served[1] == "True False", "the login page is not in Finnish: no compiled catalogue?"
