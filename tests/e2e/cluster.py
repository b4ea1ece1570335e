"""The cluster `make cluster` starts (qosyl/ops/cluster.py), driven from the tests: the
journey in test_cluster.py and the faults in test_cluster_faults.py."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import requests

from tests.e2e.conftest import free_port
from tests.e2e.conftest import ROOT
from tests.e2e.conftest import server_database

NGINX = os.environ.get("NGINX") or shutil.which("nginx") or "/usr/sbin/nginx"


class Cluster:
    def __init__(self, env: dict[str, str]):
        self.env = env
        self.url = f"http://127.0.0.1:{env['CLUSTER_PORT']}"
        self.run_dir = env["CLUSTER_DIR"]

    def command(self, action: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "qosyl.ops.cluster", action],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def nodes(self) -> dict[str, str]:
        """Each process's name and address, as the script recorded them."""
        with open(os.path.join(self.run_dir, "state.json")) as state:
            return {node["name"]: node["address"] for node in json.load(state)["nodes"]}

    def access_log(self) -> str:
        with open(os.path.join(self.run_dir, "nginx", "access.log")) as log:
            return log.read()


def cookie_per_node(url: str) -> dict[str, str]:
    """A `qosyl_node` cookie value that nginx sends to each process, found by asking."""
    found: dict[str, str] = {}
    for n in range(64):
        value = f"browser-{n}"
        response = requests.get(f"{url}/healthz", cookies={"qosyl_node": value}, timeout=5)
        found.setdefault(response.headers["X-Qosyl-Node"], value)
        if len(found) == 2:
            return found
    raise AssertionError(f"nginx sent every browser to the same process: {found}")


def cluster_env(tmp: Path, queue: str, name: str, **settings: str) -> dict[str, str]:
    """The environment of a test's own cluster: two processes, a free port, a database, run
    directory and Socket.IO channel of its own; `settings` added."""
    env = {
        **os.environ,
        "QOSYL_ENV": "development",
        "QOSYL_INSTANCE_DIR": str(tmp),
        "CLUSTER_DIR": str(tmp / "run"),
        "CLUSTER_PORT": str(free_port()),
        "WORKERS": "2",
        "DATABASE_URL": server_database(tmp),
        "SOCKETIO_MESSAGE_QUEUE": queue,
        "SOCKETIO_CHANNEL": f"qosyl-{name}-{uuid.uuid4().hex[:8]}",
        "UPLOAD_FOLDER": str(tmp / "uploads"),
        "MAIL_SERVER": "",
        "PYTHONWARNINGS": "ignore",
        **settings,
    }
    env.pop("SECRET_KEY", None)  # the script makes one that every process shares
    return env
