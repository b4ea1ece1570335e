"""Several Qosyl processes behind nginx on this machine: `make cluster` / `make cluster-stop`.

    python -m qosyl.ops.cluster start|stop|status
    python -m qosyl.ops.cluster nginx-conf --server HOST:PORT ... [--listen 80]

`start` creates the PostgreSQL database if missing and migrates it, starts WORKERS app
processes (`python wsgi.py`, eventlet, default 2) that share rooms and rate limits through
Redis, and nginx in front of them (deploy/nginx/qosyl.conf, sticky, with WebSocket upgrades);
it waits until each process and nginx answer /healthz, then prints the URL. On failure it
stops what it started and prints the end of the failing log. `stop` ends exactly the
processes `start` recorded (their process groups), nothing else.

Settings, from the environment: WORKERS (2), CLUSTER_PORT (8080), CLUSTER_HOST (127.0.0.1),
CLUSTER_DIR (instance/cluster: pids, logs, nginx's files, the secret key), DATABASE_URL
(postgresql+psycopg://postgres@127.0.0.1:5432/qosyl), SOCKETIO_MESSAGE_QUEUE
(redis://127.0.0.1:6379/0), SOCKETIO_CHANNEL, SECRET_KEY (else one generated into
CLUSTER_DIR once), NGINX (the binary; nginx on PATH or /usr/sbin/nginx). Every other variable
(QOSYL_ENV, MAIL_SERVER ...) passes through to the app processes.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.error import URLError
from urllib.request import urlopen

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "deploy" / "nginx" / "qosyl.conf"
DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/qosyl"
DEFAULT_QUEUE = "redis://127.0.0.1:6379/0"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0


class ClusterError(Exception):
    pass


@dataclass
class Settings:
    workers: int
    host: str
    port: int
    run_dir: Path
    database_url: str
    queue: str

    @classmethod
    def from_env(cls, env: dict[str, str]) -> Settings:
        return cls(
            workers=int(env.get("WORKERS") or 2),
            host=env.get("CLUSTER_HOST") or "127.0.0.1",
            port=int(env.get("CLUSTER_PORT") or 8080),
            run_dir=Path(env.get("CLUSTER_DIR") or ROOT / "instance" / "cluster").resolve(),
            database_url=env.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
            queue=env.get("SOCKETIO_MESSAGE_QUEUE") or DEFAULT_QUEUE,
        )

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def state_file(self) -> Path:
        return self.run_dir / "state.json"


# nginx's configuration -------------------------------------------------------------------


def max_body_size(limit: int) -> str:
    """nginx's spelling of a byte count: 12m for 12 MiB."""
    for suffix, unit in (("m", 1024 * 1024), ("k", 1024)):
        if limit % unit == 0:
            return f"{limit // unit}{suffix}"
    return str(limit)


def site_config(servers: list[str], listen: str, server_name: str = "_") -> str:
    """deploy/nginx/qosyl.conf filled in: the upstream processes, the address nginx listens
    on, and the app's upload limit (MAX_CONTENT_LENGTH)."""
    import jinja2

    from config import Config

    template = jinja2.Template(TEMPLATE.read_text(), keep_trailing_newline=True)
    return template.render(
        servers=servers,
        listen=listen,
        server_name=server_name,
        max_body=max_body_size(Config.MAX_CONTENT_LENGTH),
        max_body_bytes=Config.MAX_CONTENT_LENGTH,
    )


def main_config(prefix: Path) -> str:
    """nginx.conf for a private nginx: its pid file, logs and temporary files in `prefix`,
    in the foreground (this script keeps its pid), around the site file."""
    temp = prefix / "tmp"
    # As root, workers would switch to `nobody`, who may not enter the run directory.
    user = "user root;\n" if os.geteuid() == 0 else ""
    paths = "\n".join(
        f"    {kind}_temp_path {temp / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""# Written by qosyl.ops.cluster; the site itself is qosyl.conf beside this file.
daemon off;
{user}worker_processes 1;
pid {prefix / "nginx.pid"};
error_log {prefix / "error.log"} warn;

events {{
    worker_connections 1024;
}}

http {{
    default_type application/octet-stream;
    # Which process answered each request: the cluster test reads it.
    log_format qosyl '$remote_addr "$request" $status upstream=$upstream_addr '
                     'node_cookie="$cookie_qosyl_node"';
    access_log {prefix / "access.log"} qosyl;
{paths}
    include {prefix / "qosyl.conf"};
}}
"""


def nginx_binary(env: dict[str, str]) -> str:
    found = env.get("NGINX") or shutil.which("nginx") or "/usr/sbin/nginx"
    if not os.access(found, os.X_OK):
        raise ClusterError(
            "nginx not found: `make nginx` installs Debian's nginx-light (as root), "
            "or set NGINX to its path"
        )
    return found


# Processes ---------------------------------------------------------------------------------


def free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def port_taken(host: str, port: int) -> bool:
    """Someone listens there already (a connection in TIME_WAIT does not count)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (our child, not yet reaped) is gone for every purpose here.
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def is_ours(process: dict) -> bool:
    """The pid still names the process we started (not one that reused its number)."""
    pid = process["pid"]
    if not alive(pid):
        return False
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return True  # no /proc: trust the pid file
    return process["match"] in command


def tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"({path} is missing)"


def answers(url: str) -> bool:
    try:
        with urlopen(url, timeout=2) as response:
            return response.status == 200
    except (URLError, OSError):
        return False


def read_state(settings: Settings) -> dict | None:
    try:
        return json.loads(settings.state_file.read_text())
    except (OSError, ValueError):
        return None


def write_state(settings: Settings, state: dict) -> None:
    settings.state_file.write_text(json.dumps(state, indent=2) + "\n")


def secret_key(settings: Settings, env: dict[str, str]) -> str:
    if env.get("SECRET_KEY"):
        return env["SECRET_KEY"]
    key_file = settings.run_dir / "secret-key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(48))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database the URL names when it is missing."""
    if not url.startswith("postgres"):
        return
    from sqlalchemy import create_engine
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from config import normalise_database_url

    target = make_url(normalise_database_url(url))
    name = target.database or ""
    if not re.fullmatch(r"[A-Za-z0-9_]+", name):
        raise ClusterError(f"unexpected database name {name!r} in DATABASE_URL")
    engine = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            exists = connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            ).first()
            if not exists:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:
        raise ClusterError(f"PostgreSQL is not usable at {url}: {error}") from error
    finally:
        engine.dispose()


def spawn(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    """A process in a session of its own (a group `stop` can end whole), logging to `log`."""
    with open(log, "ab") as log_file:
        return subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def start(env: dict[str, str]) -> str:
    settings = Settings.from_env(env)
    state = read_state(settings)
    if state and any(is_ours(process) for process in state["processes"]):
        raise ClusterError(
            f"a cluster is already running from {settings.run_dir} at {state['url']}: "
            "stop it first (make cluster-stop)"
        )
    nginx = nginx_binary(env)
    # Else /healthz would be answered by whatever listens there, and nginx would exit.
    if port_taken(settings.host, settings.port):
        raise ClusterError(f"{settings.host}:{settings.port} is taken: set CLUSTER_PORT")
    settings.run_dir.mkdir(parents=True, exist_ok=True)
    prefix = settings.run_dir / "nginx"
    for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (prefix / "tmp" / kind).mkdir(parents=True, exist_ok=True)

    app_env = {
        **env,
        "DATABASE_URL": settings.database_url,
        "SOCKETIO_MESSAGE_QUEUE": settings.queue,
        "SECRET_KEY": secret_key(settings, env),
        "PUBLIC_URL": settings.url,
        # nginx is the one proxy in front: trust its X-Forwarded-For and -Proto only.
        "PROXY_COUNT": env.get("PROXY_COUNT") or "1",
        "FLASK_APP": "wsgi:app",
    }
    app_env.pop("WERKZEUG_RUN_MAIN", None)
    ensure_database(settings.database_url)
    migrate_log = settings.run_dir / "migrate.log"
    with open(migrate_log, "wb") as log_file:
        migration = subprocess.run(
            [sys.executable, "-m", "flask", "db", "upgrade"],
            cwd=ROOT,
            env=app_env,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    if migration.returncode != 0:
        raise ClusterError(f"migrations failed:\n{tail(migrate_log)}")

    state = {"url": settings.url, "processes": [], "nodes": []}
    started: list[tuple[dict, subprocess.Popen]] = []
    try:
        for number in range(1, settings.workers + 1):
            port = free_port(settings.host)
            name = f"node{number}"
            log = settings.run_dir / f"{name}.log"
            child = spawn(
                [sys.executable, "wsgi.py"],
                {**app_env, "HOST": settings.host, "PORT": str(port), "NODE_NAME": name},
                log,
            )
            process = {"name": name, "pid": child.pid, "match": "wsgi.py", "log": str(log)}
            state["processes"].append(process)
            state["nodes"].append({"name": name, "address": f"{settings.host}:{port}"})
            started.append((process, child))
            write_state(settings, state)

        (prefix / "qosyl.conf").write_text(
            site_config(
                [node["address"] for node in state["nodes"]], f"{settings.host}:{settings.port}"
            )
        )
        (prefix / "nginx.conf").write_text(main_config(prefix))
        nginx_log = prefix / "error.log"
        nginx_args = [nginx, "-p", str(prefix), "-c", str(prefix / "nginx.conf")]
        nginx_args += ["-e", str(nginx_log)]
        checked = subprocess.run(
            [*nginx_args, "-t", "-q"], stdin=subprocess.DEVNULL, capture_output=True, text=True
        )
        if checked.returncode != 0:
            raise ClusterError(f"nginx refused its configuration:\n{checked.stderr}")
        child = spawn(nginx_args, env, nginx_log)
        process = {"name": "nginx", "pid": child.pid, "match": "nginx", "log": str(nginx_log)}
        state["processes"].append(process)
        started.append((process, child))
        write_state(settings, state)

        checks = [
            (process, child, f"http://{node['address']}/healthz")
            for (process, child), node in zip(started, state["nodes"], strict=False)
        ]
        checks.append((*started[-1], f"{settings.url}/healthz"))
        deadline = time.monotonic() + START_TIMEOUT
        for process, child, url in checks:
            while not answers(url):
                if child.poll() is not None:
                    raise ClusterError(
                        f"{process['name']} exited ({child.returncode}); "
                        f"the end of {process['log']}:\n{tail(Path(process['log']))}"
                    )
                if time.monotonic() > deadline:
                    raise ClusterError(
                        f"{process['name']} did not answer {url} within {START_TIMEOUT:.0f} s; "
                        f"the end of {process['log']}:\n{tail(Path(process['log']))}"
                    )
                time.sleep(0.2)
        for process, child in started:
            if child.poll() is not None:
                raise ClusterError(
                    f"{process['name']} exited ({child.returncode}); "
                    f"the end of {process['log']}:\n{tail(Path(process['log']))}"
                )
    except BaseException:
        stop_processes(state["processes"])
        settings.state_file.unlink(missing_ok=True)
        raise
    return settings.url


def stop_processes(processes: list[dict]) -> list[str]:
    """End each recorded process's group: nginx first (no new requests), then the apps."""
    ours = [process for process in reversed(processes) if is_ours(process)]
    for process in ours:
        try:
            os.killpg(process["pid"], signal.SIGTERM)
        except ProcessLookupError:
            pass
        except PermissionError:
            os.kill(process["pid"], signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    for process in ours:
        while alive(process["pid"]) and time.monotonic() < deadline:
            _reap(process["pid"])
            time.sleep(0.1)
        if alive(process["pid"]):
            try:
                os.killpg(process["pid"], signal.SIGKILL)
            except ProcessLookupError:
                pass
        _reap(process["pid"])
    return [f"{process['name']} (pid {process['pid']})" for process in ours]


def _reap(pid: int) -> None:
    """Collect our own child's exit status (when start failed in this very process)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def stop(env: dict[str, str]) -> list[str]:
    settings = Settings.from_env(env)
    state = read_state(settings)
    if state is None:
        return []
    stopped = stop_processes(state["processes"])
    settings.state_file.unlink(missing_ok=True)
    return stopped


def status(env: dict[str, str]) -> tuple[bool, str]:
    settings = Settings.from_env(env)
    state = read_state(settings)
    if state is None:
        return False, f"no cluster recorded in {settings.run_dir}"
    lines = [f"cluster at {state['url']} ({settings.run_dir})"]
    running = True
    for process in state["processes"]:
        up = is_ours(process)
        running = running and up
        lines.append(f"  {process['name']}: pid {process['pid']} {'running' if up else 'gone'}")
    return running, "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m qosyl.ops.cluster", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("start", help="start the app processes and nginx; print the URL")
    commands.add_parser("stop", help="stop what start started")
    commands.add_parser("status", help="which recorded processes still run")
    conf = commands.add_parser("nginx-conf", help="print deploy/nginx/qosyl.conf filled in")
    conf.add_argument("--server", action="append", required=True, help="HOST:PORT of a process")
    conf.add_argument("--listen", default="80")
    conf.add_argument("--server-name", default="_")
    args = parser.parse_args(argv)
    env = dict(os.environ)
    try:
        if args.command == "start":
            url = start(env)
            print(f"Qosyl runs behind nginx at {url} (stop it with `make cluster-stop`)")
        elif args.command == "stop":
            stopped = stop(env)
            print("stopped " + ", ".join(stopped) if stopped else "nothing to stop")
        elif args.command == "status":
            running, report = status(env)
            print(report)
            return 0 if running else 1
        else:
            print(site_config(args.server, args.listen, args.server_name), end="")
    except ClusterError as error:
        print(f"cluster: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
