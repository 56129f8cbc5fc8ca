"""Certificates made by the tests with the `openssl` command: a private CA, server certificates for localhost and
127.0.0.1 signed by it, client certificates with a chosen common name, and a second CA nobody trusts."""
import subprocess
from pathlib import Path


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


class CertificateAuthority:
    def __init__(self, folder: Path, name: str):
        self.folder = folder
        self.name = name
        folder.mkdir(parents=True, exist_ok=True)
        self.key = folder / f"{name}.key"
        self.certificate = folder / f"{name}.pem"
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", self.key, "-out", self.certificate,
                "-days", "30", "-subj", f"/CN={name}", cwd=folder)
        self.serial = 1000

    def issue(self, name: str, common_name: str, *, server: bool, days: int = 30):
        """A certificate and key signed by this CA; a server one names localhost and 127.0.0.1."""
        key, request, certificate = (self.folder / f"{name}.{suffix}" for suffix in ("key", "csr", "pem"))
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", request, "-subj", f"/CN={common_name}",
                cwd=self.folder)
        extensions = self.folder / f"{name}.ext"
        extensions.write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n" if server
                              else "extendedKeyUsage=clientAuth\n")
        self.serial += 1
        openssl("x509", "-req", "-in", request, "-CA", self.certificate, "-CAkey", self.key, "-set_serial", str(self.serial),
                "-out", certificate, "-days", str(days), "-extfile", extensions, cwd=self.folder)
        return certificate, key
