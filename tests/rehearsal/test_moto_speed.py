"""What the emulator changes in moto to answer faster (rehearsal/moto_speed.py) changes no
answer beyond what it says: ACM's certificates share a key, nothing else does, whatever other
threads of the process (`diagnyx emulator` answers each request in one of its own) do
meanwhile."""

import threading

import cryptography.hazmat.primitives.asymmetric.rsa as rsa
from moto.acm.models import CertBundle

from diagnyx_infra.rehearsal import moto_speed

REAL_GENERATOR = rsa.generate_private_key


def test_certificates_share_a_key_and_no_other_rsa_key_does():
    """Certificates made from several threads at once share their key, an RSA key made
    meanwhile or after them is one of its own, and the process's generator is cryptography's,
    untouched. (Swapping the generator while a certificate was made once left, after
    overlapping requests, every later RSA key of the process the shared one.)"""
    start = threading.Barrier(4)
    own_keys = []

    def certificates() -> None:
        start.wait()
        for n in range(5):
            CertBundle.generate_cert(f"t{n}.example.com", "123456789012", "us-east-1")
        own_keys.append(rsa.generate_private_key(public_exponent=65537, key_size=2048))

    threads = [threading.Thread(target=certificates) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert rsa.generate_private_key is REAL_GENERATOR
    shared = set(moto_speed._CERTIFICATE_KEYS.values())
    assert len(shared) == 1
    numbers = {key.private_numbers().d for key in own_keys}
    assert len(numbers) == 4 and not numbers & {key.private_numbers().d for key in shared}
