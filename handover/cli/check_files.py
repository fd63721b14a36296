"""`handover check` on what lies on disk: the key file and the instance folder, which must be
there, readable by the service and by no other account on the machine."""

import os
import stat
import tempfile

from handover.cli.findings import error
from handover.config import ConfigurationError
from handover.security import keys


def key_problems(app):
    path = app.config["KEYS_FILE"]
    if not app.config.get("KEYS_JSON"):
        if not os.path.exists(path):
            yield error(keys.missing_key_file_advice(app, path))
            return
        mode = stat.S_IMODE(os.stat(path).st_mode)
        if mode & 0o077:
            yield error(f"The key file {path} has mode {mode:04o}: others can read it. "
                        f"Run `chmod 600 {path}`.")
    try:
        keys.load_keyring(app)
    except keys.KeyFileUnreadable as problem:
        yield error(str(problem))  # not JSON, or not readable: the message says what to do
    except ConfigurationError as problem:
        # The key module's own validation names what is wrong (missing or short keys).
        yield error(f"The keyring is not usable: {problem} Restore it from the key backup.")


def instance_problems(app):
    folder = app.instance_path
    if not os.path.isdir(folder):
        yield error(f"The instance folder {folder} does not exist. Run `handover init` "
                    "or set HANDOVER_INSTANCE_PATH.")
        return
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError:
        yield error(f"The instance folder {folder} is not writable by this user. "
                    "Give the service user write access to it.")
        return
    yield from _readable_by_others(app, folder)


#: Files a checkout's instance folder carries from git, which stores no mode but 0644 or 0755:
#: the folder's README and a placeholder that keeps the folder in git. Neither holds a secret
#: (nothing Handover writes is called so), so they are not asked to be 0600: `chmod 600` on them
#: would come back with every `git checkout`.
COMMITTED_FILES = {"README.md", ".gitkeep"}


def _readable_by_others(app, folder):
    """The instance folder holds the database, its WAL, the secret key and the key file: none
    of it is for other accounts on the machine. Plugin code is not secret and is left out;
    the key file has its own finding."""
    mode = stat.S_IMODE(os.stat(folder).st_mode)
    if mode & 0o077:
        yield error(f"The instance folder {folder} has mode {mode:04o}: other accounts can "
                    f"look into it. Run `chmod 700 {folder}`.")
    skipped = {os.path.abspath(app.config["PLUGINS_DIR"])}
    key_file = os.path.abspath(app.config["KEYS_FILE"])
    for here, folders, files in os.walk(folder):
        folders[:] = sorted(name for name in folders
                            if os.path.abspath(os.path.join(here, name)) not in skipped)
        for name in sorted(files):
            path = os.path.join(here, name)
            if os.path.abspath(path) == key_file or os.path.islink(path):
                continue
            if here == folder and name in COMMITTED_FILES:
                continue
            mode = stat.S_IMODE(os.lstat(path).st_mode)
            if mode & 0o077:
                yield error(f"{path} has mode {mode:04o}: other accounts can read it. "
                            f"Run `chmod 600 {path}`.")
