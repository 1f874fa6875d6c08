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


def test_a_method_added_to_a_response_class_is_answered_though_its_methods_were_listed():
    """moto_speed keeps each response class's methods; the world's ListCostAllocationTags is
    added later, so the list is made again (without it, a Cost Explorer call made earlier in the
    process hid it: a test order found it)."""
    import pytest

    from diagnyx_infra.ops.aws import Aws
    from diagnyx_infra.rehearsal.rehearse import emulated_aws
    from diagnyx_infra.rehearsal.world import World, cost_allocation_tags_answered

    with emulated_aws():
        aws = Aws.from_environment("us-east-1")
        ce = aws.client("ce")
        with pytest.raises(NotImplementedError):
            ce.list_cost_allocation_tags()  # moto's methods of the class are listed now
        world = World(aws, "us-east-1")
        world.billing_tag_keys.add("Owner")
        with cost_allocation_tags_answered(world):
            tags = ce.list_cost_allocation_tags()["CostAllocationTags"]
        assert [t["TagKey"] for t in tags] == ["Owner"]
        with pytest.raises(NotImplementedError):
            ce.list_cost_allocation_tags()
