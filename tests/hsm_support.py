"""SoftHSM2 for the HSM tests: one token folder per test run (a temporary folder), a fresh
token per test, the PIN in a file as an operator would keep it. Skips with the reason when
Debian's softhsm2 is not installed (`scripts/install --test` installs it)."""

import os
import secrets
import shutil
import subprocess
from pathlib import Path

import pkcs11
import pytest

MODULE_CANDIDATES = ("/usr/lib/softhsm/libsofthsm2.so",
                     "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so")
PIN = "4821-" + secrets.token_hex(4)


def module_path():
    return next((path for path in MODULE_CANDIDATES if os.path.exists(path)), None)


@pytest.fixture(scope="session")
def softhsm_folder(tmp_path_factory):
    """The token folder of this run, with SOFTHSM2_CONF pointing at it for every process."""
    if module_path() is None or shutil.which("softhsm2-util") is None:
        pytest.skip("SoftHSM2 is not installed (Debian softhsm2; run scripts/install --test)")
    folder = tmp_path_factory.mktemp("softhsm")
    (folder / "tokens").mkdir()
    conf = folder / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {folder / 'tokens'}\nobjectstore.backend = file\n"
                    "log.level = ERROR\nslots.removable = false\n")
    previous = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    yield folder
    if previous is None:
        os.environ.pop("SOFTHSM2_CONF", None)
    else:
        os.environ["SOFTHSM2_CONF"] = previous


def make_token(folder):
    """A fresh, initialised token; returns the configuration that points Handover at it."""
    label = "handover-" + secrets.token_hex(4)
    subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", label,
                    "--pin", PIN, "--so-pin", secrets.token_hex(8)],
                   check=True, capture_output=True, timeout=60)
    from handover.security.key_backends.pkcs11 import library_for

    library_for(module_path()).reinitialize()  # an initialised library lists new slots only now
    pin_file = Path(folder) / f"{label}.pin"
    pin_file.write_text(PIN + "\n")
    pin_file.chmod(0o600)
    return {"KEY_BACKEND": "pkcs11", "PKCS11_MODULE": module_path(), "PKCS11_TOKEN": label,
            "PKCS11_PIN_FILE": str(pin_file)}


def open_token(config):
    """A session on the test's token straight through python-pkcs11, as an attacker with the
    PIN would have it."""
    from handover.security.key_backends.pkcs11 import library_for

    token = library_for(config["PKCS11_MODULE"]).get_token(token_label=config["PKCS11_TOKEN"])
    try:
        return token.open(user_pin=PIN, rw=True)
    except pkcs11.UserAlreadyLoggedIn:  # this process's Handover app logged in already
        return token.open(rw=True)
