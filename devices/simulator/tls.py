"""Self-signed certificates for the simulated cameras' HTTPS listeners (VAPIX.md §2.2, §14 item 3).

Real cameras ship a self-signed certificate; clients pin its SHA-256 fingerprint on first use.
Keys are EC P-256 so a thousand certificates take about a second to make.
"""

from __future__ import annotations

import ipaddress
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass
class Certificate:
    """A camera's current certificate: the TLS context serving it and its fingerprint."""

    context: ssl.SSLContext
    sha256: str  # lower-case hex of the DER certificate, as clients pin it
    generation: int


def make_certificate(
    folder: Path,
    name: str,
    host: str,
    generation: int = 1,
    context: ssl.SSLContext | None = None,
) -> Certificate:
    """Create a key and self-signed certificate for `host` under `folder`; return it loaded.

    With `context`, the new chain is loaded into that existing context, so listeners keep
    running and only new handshakes see the new certificate.
    """
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "SE"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Axis Communications AB"),
            x509.NameAttribute(NameOID.COMMON_NAME, name),
        ]
    )
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(name), x509.IPAddress(ipaddress.ip_address(host))]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path = folder / f"{name}-{generation}.crt"
    key_path = folder / f"{name}-{generation}.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    if context is None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2  # HTTPS.AllowTLS1/AllowTLS11=no
    context.load_cert_chain(cert_path, key_path)
    fingerprint = certificate.fingerprint(hashes.SHA256()).hex()
    return Certificate(context=context, sha256=fingerprint, generation=generation)
