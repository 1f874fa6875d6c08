"""What the emulator changes in moto to answer faster (rehearsal/moto_speed.py) changes no
answer beyond what it says: ACM's certificates share a key, nothing else does, whatever the
threads of `diagnyx emulator` do meanwhile."""

import threading

import boto3
import cryptography.hazmat.primitives.asymmetric.rsa as rsa

from diagnyx_infra.rehearsal import moto_speed
from diagnyx_infra.rehearsal.server import CREDENTIALS, serve

REAL_GENERATOR = rsa.generate_private_key


def test_certificates_share_a_key_and_no_other_rsa_key_does(monkeypatch):
    """Certificates requested from many threads at once (the emulator answers each request in
    a thread of its own) share their key; an EC2 key pair made after them is a key of its own,
    and the process's RSA generator is cryptography's, untouched. (Swapping the generator while
    a certificate was made once left every later RSA key of the process the shared one.)"""
    for key, value in CREDENTIALS.items():
        monkeypatch.setenv(key, value)
    for key in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    urls: list[str] = []
    ready, stop = threading.Event(), threading.Event()
    server = threading.Thread(
        target=serve, args=("127.0.0.1", 0, lambda url: (urls.append(url), ready.set()), stop)
    )
    server.start()
    try:
        assert ready.wait(30)

        def client(service: str):
            return boto3.client(service, endpoint_url=urls[0], region_name="us-east-1")

        start = threading.Barrier(4)
        arns: list[str] = []

        def request() -> None:
            acm = client("acm")
            start.wait()
            arns.extend(
                acm.request_certificate(DomainName=f"t{i}.example.com")["CertificateArn"]
                for i in range(3)
            )

        threads = [threading.Thread(target=request) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(arns) == 12
        ec2 = client("ec2")
        first, second = (ec2.create_key_pair(KeyName=name)["KeyMaterial"] for name in "ab")
        assert first != second
        assert rsa.generate_private_key is REAL_GENERATOR
        assert len(moto_speed._CERTIFICATE_KEYS) == 1  # one kind of key, shared
    finally:
        stop.set()
        server.join(30)
