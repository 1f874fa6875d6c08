"""`diagnyx emulator`: the rehearsal's AWS emulator as a server, for `rehearse --endpoint-url` and
for a person exploring a rehearsed organization with the AWS CLI and the operations commands.

It is moto's server with what the emulator adds to moto's model (moto_gaps.py). The rules the
rehearsal enforces on the program's resources (aws_rules.py) run in the rehearsal's process, so
they hold for a rehearsal into this server too. moto accepts any credentials and keeps nothing
on disk, so the server listens on a loopback address only, and answers only what an AWS SDK or
CLI sends: requests signed with Signature Version 4 in their `Authorization` header, addressed
to that address (no presigned URL, no moto dashboard or API). A web page the user visits can
reach a loopback port too, but a browser sends no `Authorization` header across origins without
a CORS preflight, which moto's global CORS (turned off here) would have answered; and a hostname
rebound to 127.0.0.1 arrives with its own name in `Host`.
"""

import ipaddress
import logging
import socket
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

# What a person (or a command) needs in its environment to talk to the emulator: moto accepts
# any credentials; these are the rehearsal's.
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "rehearsal",
    "AWS_SECRET_ACCESS_KEY": "rehearsal",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",  # what AWS CLI v1 reads
}


class NotLoopback(ValueError):
    """An address other than this machine's loopback."""


def loopback_host(host: str) -> str:
    """``host`` if it names this machine's loopback (127.0.0.0/8, ::1 or localhost)."""
    if host == "localhost":
        return host
    try:
        if ipaddress.ip_address(host.strip("[]")).is_loopback:
            return host
    except ValueError:
        pass
    raise NotLoopback(
        f"{host!r} is not a loopback address: the emulator answers anyone who reaches it, with "
        "any credentials; use 127.0.0.1, ::1 or localhost"
    )


def emulator_url(url: str) -> str:
    """``url`` (without a trailing slash) if it is an http(s) URL of a loopback address."""
    if any(c.isspace() or not c.isprintable() for c in url):
        raise NotLoopback(f"{url!r} holds spaces or control characters")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise NotLoopback(f"{url!r} is not an http:// URL of the emulator")
    loopback_host(parts.hostname)
    try:
        parts.port  # noqa: B018 (a port out of range raises here)
    except ValueError as error:
        raise NotLoopback(f"{url!r}: {error}") from None
    return url.rstrip("/")


def only_signed_and_addressed(app: Callable, port: int) -> Callable:
    """``app`` for requests signed with SigV4 in an `Authorization` header (what an AWS SDK or
    CLI sends; a browser sends that header across origins only after a CORS preflight, which
    this server never answers) whose `Host` is a loopback name or address and ``port``. Anything
    else gets 403: presigned URLs (a page can forge a query string), and moto's own API at
    /moto-api (its reset and its recorder, which replays whatever it was given)."""

    def guarded(environ: dict, start_response: Callable) -> Any:
        signed = environ.get("HTTP_AUTHORIZATION", "").startswith("AWS4-HMAC-SHA256 ")
        moto_api = environ.get("PATH_INFO", "").startswith("/moto-api")
        if signed and not moto_api and _addressed_here(environ.get("HTTP_HOST", ""), port):
            return app(environ, start_response)
        start_response("403 Forbidden", [("Content-Type", "text/plain")])
        return [b"the emulator answers only AWS requests signed with SigV4 and sent to it\n"]

    return guarded


def _addressed_here(host_header: str, port: int) -> bool:
    """A `Host` naming this server: a loopback address, `localhost` or a subdomain of it (S3's
    virtual-hosted buckets), and the port it listens on (left out for port 80)."""
    host, colon, given_port = host_header.rpartition(":")
    if not colon or "]" in given_port:  # no port: "localhost", "[::1]"
        host, given_port = host_header, "80"
    if not host or given_port != str(port):
        return False
    host = host.lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def serve(
    host: str, port: int, ready: Callable[[str], None], stop: threading.Event | None = None
) -> None:
    """Serve on ``host``:``port`` (0: a free port), call ``ready`` with the endpoint URL, and
    serve until ``stop`` is set or the process is interrupted. Raises OSError when the address
    cannot be bound (a port in use), NotLoopback for any other address than a loopback one."""
    loopback_host(host)
    address = "127.0.0.1" if host == "localhost" else host.strip("[]")
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    # Bound here: werkzeug's server prints and exits the process when it cannot bind.
    listener = socket.socket(family, socket.SOCK_STREAM)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((address, port))
        listener.listen(128)
    except OSError:
        listener.close()
        raise

    import moto.moto_server.werkzeug_app as moto_app
    from werkzeug.serving import make_server

    from . import moto_gaps, moto_speed  # noqa: F401 (what the emulator adds and changes)

    # No line per request, nor a traceback for each action moto lacks: its client reads that
    # answer (HTTP 500, "not implemented") and the operations commands name it.
    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)
    moto_app.DISABLE_GLOBAL_CORS = True  # read as each service's app is made
    bound_port = listener.getsockname()[1]
    moto = moto_app.DomainDispatcherApplication(moto_app.create_backend_app)  # as moto's server
    app = only_signed_and_addressed(moto, bound_port)
    server = make_server(
        address, port, app, threaded=True, request_handler=moto_app.MotoRequestHandler,
        fd=listener.fileno(),
    )  # fmt: skip
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        shown = f"[{address}]" if family == socket.AF_INET6 else address
        ready(f"http://{shown}:{bound_port}")
        (stop or threading.Event()).wait()
    finally:
        server.shutdown()
        thread.join()
        server.server_close()
        listener.close()
