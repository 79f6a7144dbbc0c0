"""A Client ID Metadata Document host for the tests: HTTPS on loopback with its own CA.

The server under test keeps django-oauth-toolkit's CIMD resolver and its response checks; only
its fetcher is swapped (OAUTH2_PROVIDER CIMD_METADATA_FETCHER, from the environment) for
`LoopbackFetcher`, which connects to loopback (the real one refuses every non-public address)
and trusts this CA (TEST_CIMD_CA_FILE).
"""

from __future__ import annotations

import datetime
import json
import os
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import urllib3
from oauth2_provider.cimd import SafeMetadataFetcher, _validate_client_id_url


class LoopbackFetcher(SafeMetadataFetcher):
    def fetch(self, client_id: str) -> Any:
        parsed = _validate_client_id_url(client_id)
        assert parsed.hostname in ("127.0.0.1", "localhost")
        context = ssl.create_default_context(cafile=os.environ["TEST_CIMD_CA_FILE"])
        pool = urllib3.HTTPSConnectionPool(
            host="127.0.0.1", port=parsed.port, ssl_context=context, retries=False, timeout=5,
            server_hostname=parsed.hostname,
        )  # fmt: skip
        try:
            response = pool.urlopen("GET", parsed.path, redirect=False, preload_content=False)
            try:
                return self._read_document(response)
            finally:
                response.release_conn()
        finally:
            pool.close()


def self_signed(directory: Path) -> tuple[Path, Path]:
    """(certificate, key) for 127.0.0.1 and localhost, the certificate its own CA."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cimd.crt", directory / "cimd.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class DocumentHost:
    """Serves JSON documents by path over HTTPS on a loopback port."""

    def __init__(self, cert: Path, key: Path) -> None:
        self.documents: dict[str, dict[str, Any]] = {}
        self.requests: list[str] = []
        documents, requests = self.documents, self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                requests.append(self.path)
                document = documents.get(urlparse(self.path).path)
                body = json.dumps(document).encode() if document is not None else b"{}"
                self.send_response(200 if document is not None else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"https://localhost:{self.port}{path}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
