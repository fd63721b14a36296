#!/usr/bin/env python
"""Send and open throughput with the KEK in an HSM (PKCS#11, SoftHSM2) against the key file,
in the same run on the same machine: for each backend a fresh instance under gunicorn, drafts
written untimed, then the timed "Send" POSTs (a new data key wrapped by the KEK) and the timed
first views by the receiver (the data key unwrapped, content decrypted, opened, audited), from
``--concurrency`` clients at once. Needs Debian's softhsm2. Usage:

    .venv/bin/python bench/key_backends.py [--operations 100] [--concurrency 4]
        [--database-url postgresql://...]
"""

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "fault"))
sys.path.insert(0, str(HERE.parent / "tests"))

import harness  # noqa: E402

MODULE = "/usr/lib/softhsm/libsofthsm2.so"
PIN = "bench-1234"


def parse():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--operations", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database-url", default=os.environ.get("HANDOVER_TEST_DATABASE_URL"))
    return parser.parse_args()


def softhsm_environment(folder):
    (folder / "tokens").mkdir()
    conf = folder / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {folder / 'tokens'}\nobjectstore.backend = file\n"
                    "log.level = ERROR\n")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    utility = shutil.which("softhsm2-util")
    if utility is None:
        raise SystemExit("softhsm2-util is missing: apt-get install softhsm2")
    subprocess.run([utility, "--init-token", "--free", "--label", "bench", "--pin", PIN,  # noqa: S603
                    "--so-pin", "bench-so-5678"], check=True, capture_output=True)
    return {"KEY_BACKEND": "pkcs11", "PKCS11_MODULE": MODULE, "PKCS11_TOKEN": "bench",
            "PKCS11_PIN": PIN}


def run_backend(name, settings, arguments, folder):
    database = harness.PostgresDatabase(arguments.database_url).create() \
        if arguments.database_url else None
    server = harness.Server(folder / f"instance-{name}", database_url=database and database.url,
                            workers=arguments.workers,
                            extra_env={f"HANDOVER_{key}": value for key, value in settings.items()})
    try:
        server.init()
        if settings:
            result = server.cli("keys", "rotate")  # the HSM's first KEK
            assert result.returncode == 0, result.stdout + result.stderr
        from handover import create_app

        overrides = {"INSTANCE_PATH": str(server.instance_path), **settings}
        if database:
            overrides["SQLALCHEMY_DATABASE_URI"] = database.url
        server._app = create_app(overrides)
        server.start()
        people = harness.People(server, arguments.concurrency, arguments.concurrency)
        return measure(server, people, arguments)
    finally:
        server.kill()
        server.dispose()
        if database:
            database.drop()


def measure(server, people, arguments):
    per_client = max(1, arguments.operations // arguments.concurrency)

    def prepare(index):
        client = harness.Client(server.url).login(people.senders[index])
        ready = []
        for number in range(per_client):
            receiver = people.receiving_unit_ids[index % len(people.receiving_unit_ids)]
            draft_id = client.start_draft(people.sending_unit_id, receiver)
            client.fill(draft_id, f"bench-{index}-{number}")
            page = client.get(f"/handovers/{draft_id}/preview")
            token = re.search(r'name="submission_token"[^>]*value="([^"]+)"', page.text)
            ready.append((draft_id, token.group(1)))
        return client, ready

    def send_all(prepared):
        client, ready = prepared
        for draft_id, token in ready:
            answer = client.post(f"/handovers/{draft_id}/send", {"submission_token": token})
            assert answer.status == 302, answer.status
        return [draft_id for draft_id, _ in ready]

    def open_all(job):
        client, handover_ids = job
        for handover_id in handover_ids:
            answer = client.get(f"/handovers/{handover_id}")
            assert answer.status == 200, answer.status

    with ThreadPoolExecutor(arguments.concurrency) as pool:
        prepared = list(pool.map(prepare, range(arguments.concurrency)))
        started = time.perf_counter()
        sent = list(pool.map(send_all, prepared))
        send_seconds = time.perf_counter() - started
        receivers = list(pool.map(lambda index: harness.Client(server.url).login(
            people.receivers[index]), range(arguments.concurrency)))
        logged_in = list(zip(receivers, sent, strict=True))
        started = time.perf_counter()
        list(pool.map(open_all, logged_in))
        open_seconds = time.perf_counter() - started
    count = per_client * arguments.concurrency
    return {"sends": count, "send_per_s": count / send_seconds,
            "opens": count, "open_per_s": count / open_seconds}


def per_operation(folder, hsm, count=2000):
    """Microseconds per wrap and per unwrap of a data key, in process, through each backend:
    the part of a send (wrap) and of a first open (unwrap) that the key backend costs."""
    from handover import create_app
    from handover.security import crypto, key_backends, keys

    instance = folder / "micro"
    instance.mkdir()
    keys.create_key_file(str(instance / "keys.json"))
    results = {}
    for name, settings in (("file", {}), ("pkcs11", hsm)):
        app = create_app({"INSTANCE_PATH": str(instance), "SECRET_KEY": "bench",
                          "SQLALCHEMY_DATABASE_URI": "sqlite://", **settings})
        with app.app_context():
            backend = key_backends.active_backend()
            if backend.active_kek_id() is None:
                backend.add_kek()
            data_key = crypto.new_data_key()
            started = time.perf_counter()
            wrapped = [crypto.wrap_data_key(data_key, number + 1) for number in range(count)]
            wrap = (time.perf_counter() - started) / count * 1e6
            started = time.perf_counter()
            for number, (kek_id, blob) in enumerate(wrapped):
                crypto.unwrap_data_key(kek_id, blob, number + 1)
            unwrap = (time.perf_counter() - started) / count * 1e6
        results[name] = (wrap, unwrap)
        print(f"{name:14} wrap {wrap:8.1f} µs   unwrap {unwrap:8.1f} µs   (in process, "
              f"{count} each)", flush=True)
    return results


def main():
    arguments = parse()
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        hsm = softhsm_environment(folder)
        per_operation(folder, hsm)
        rows = {}
        for name, settings in (("file", {}), ("pkcs11", hsm), ("file (again)", {})):
            rows[name] = run_backend(name.split()[0] + str(len(rows)), settings, arguments,
                                     folder)
            print(f"{name:14} send {rows[name]['send_per_s']:7.1f}/s   "
                  f"open {rows[name]['open_per_s']:7.1f}/s   ({rows[name]['sends']} each)",
                  flush=True)
        files = [rows["file"], rows["file (again)"]]
        for key in ("send_per_s", "open_per_s"):
            baseline = statistics.mean(row[key] for row in files)
            print(f"pkcs11 / file {key}: {rows['pkcs11'][key] / baseline:.2f}")


if __name__ == "__main__":
    main()
