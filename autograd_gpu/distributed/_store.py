"""A small key-value store over TCP for rendezvous (torch.distributed.TCPStore's role).

Rank 0 serves it on MASTER_ADDR:MASTER_PORT from a daemon thread; every rank (0 included)
is a client. ``set(key, bytes)``, ``get(key)`` (waits until the key exists, up to the
timeout) and ``add(key, n)``. The NCCL backend exchanges its unique id through it when the
ranks were not started by mpirun. One JSON line per request and per reply.
"""
import base64
import json
import socket
import socketserver
import threading
import time


class _Handler(socketserver.StreamRequestHandler):
    def handle(self):
        store = self.server.store
        for line in self.rfile:
            req = json.loads(line)
            op, key = req["op"], req["key"]
            with store.cond:
                if op == "set":
                    store.data[key] = req["value"]
                    store.cond.notify_all()
                    reply = {"ok": True}
                elif op == "add":
                    v = int(store.data.get(key, "0")) + int(req["value"])
                    store.data[key] = str(v)
                    store.cond.notify_all()
                    reply = {"ok": True, "value": v}
                else:  # get: wait for the key, at most the client's timeout
                    deadline = time.monotonic() + float(req["timeout"])
                    while key not in store.data and time.monotonic() < deadline:
                        store.cond.wait(min(1.0, max(deadline - time.monotonic(), 0.0)))
                    reply = ({"ok": True, "value": store.data[key]} if key in store.data
                             else {"ok": False})
            self.wfile.write((json.dumps(reply) + "\n").encode())
            self.wfile.flush()


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class TCPStore:
    """``TCPStore(host, port, world_size, is_master, timeout)`` as torch's (a subset).

    Args:
        host_name: the host of the server (rank 0's address).
        port: its port.
        world_size: accepted, not used.
        is_master: run the server in this process (a daemon thread).
        timeout: seconds or a timedelta for connecting and for ``get``.
        wait_for_workers: accepted, not used.
    """

    def __init__(self, host_name, port, world_size=None, is_master=False, timeout=300.0,
                 wait_for_workers=False):
        self.timeout = timeout.total_seconds() if hasattr(timeout, "total_seconds") else float(timeout)
        self._server = None
        if is_master:
            self._server = _Server((host_name, int(port)), _Handler)
            self._server.store = self
            self.data = {}
            self.cond = threading.Condition()
            threading.Thread(target=self._server.serve_forever, daemon=True,
                             name="autograd_gpu-tcpstore").start()
        self._sock = self._connect(host_name, int(port))
        self._file = self._sock.makefile("rwb")
        self._lock = threading.Lock()

    def _connect(self, host, port):
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                return socket.create_connection((host, port), timeout=self.timeout + 5)
            except OSError as e:
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"Timed out after {self.timeout:g} s connecting to the rendezvous store "
                        f"at {host}:{port} ({e}); is rank 0 running, and are MASTER_ADDR / "
                        "MASTER_PORT the same on every rank?"
                    ) from None
                time.sleep(0.05)

    def _call(self, **req):
        with self._lock:
            self._file.write((json.dumps(req) + "\n").encode())
            self._file.flush()
            line = self._file.readline()
        if not line:
            raise RuntimeError("the rendezvous store closed the connection (rank 0 exited?)")
        return json.loads(line)

    def set(self, key, value):
        """Stores `value` under `key`.

        Args:
            key: a string.
            value: bytes or a string.
        """
        if isinstance(value, str):
            value = value.encode()
        self._call(op="set", key=key, value=base64.b64encode(bytes(value)).decode())

    def get(self, key):
        """The value of `key`, waiting up to the timeout for it to be set.

        Args:
            key: a string.

        Returns:
            bytes.
        """
        r = self._call(op="get", key=key, timeout=self.timeout)
        if not r["ok"]:
            raise RuntimeError(f"Timed out after {self.timeout:g} s waiting for key {key!r} "
                               "in the rendezvous store")
        return base64.b64decode(r["value"])

    def add(self, key, amount):
        """Adds `amount` to the integer under `key` (0 when unset).

        Args:
            key: a string.
            amount: an int.

        Returns:
            int: the new value.
        """
        return self._call(op="add", key=key, value=int(amount))["value"]

    def close(self):
        """Closes the connection (and stops the server on the master)."""
        try:
            self._file.close()
            self._sock.close()
        finally:
            if self._server is not None:
                self._server.shutdown()
                self._server.server_close()
