"""What the emulator changes in moto to answer faster, without changing any answer: for the
in-process rehearsal, `diagnyx emulator` and the tests' moto servers. Imported for its effect,
once."""

import functools
from typing import Any

import botocore.session
import cryptography.hazmat.primitives.asymmetric.rsa
import cryptography.hazmat.primitives.serialization
import moto.acm.models
import moto.backends
import moto.core.responses
import moto.core.utils
import moto.kms.models

# moto's server lists its package folder to route every request to a service (a quarter of its
# time per request); the list does not change while it runs.
_MODULES = tuple(moto.backends.list_of_moto_modules())
moto.backends.list_of_moto_modules = lambda: iter(_MODULES)

# moto lists a response class's methods (inspect.getmembers) on every request it answers; they
# never change while it runs, so once per class is enough (a tenth of a rehearsal's time).
moto.core.responses.method_names_from_class = functools.cache(
    moto.core.responses.method_names_from_class
)

# moto makes botocore sessions of its own (three as it imports its EC2 backend, one for every
# backend's regions), and each would parse botocore's endpoint data and EC2's model again (a
# tenth of a rehearsal). Sessions of one data path share one loader, as ops/aws.py's do: its
# models are read-only.
botocore.session.create_loader = functools.cache(botocore.session.create_loader)
# And moto's own loader (botocore's models with moto's additions) is made again for each
# service's model, listing botocore's four hundred model folders each time.
moto.core.utils.create_loader = functools.cache(moto.core.utils.create_loader)

# moto makes an RSA key pair for every KMS key it creates (tens of milliseconds each), though
# only an asymmetric key signs with one. The landing zone's keys are symmetric: they share one.
_generate_private_key = moto.kms.models.generate_private_key


@functools.cache
def _one_rsa_key():
    return _generate_private_key("RSA_2048")


def _private_key(key_spec: str):
    return _one_rsa_key() if key_spec == "SYMMETRIC_DEFAULT" else _generate_private_key(key_spec)


moto.kms.models.generate_private_key = _private_key

# moto's ACM makes a new RSA key pair for every certificate it issues (tens of milliseconds
# each); no step reads a certificate's key, so the emulator's share one. moto reaches the
# generator through cryptography's own module, so that is swapped while moto makes a
# certificate, for the whole process: nothing else makes RSA keys meanwhile in a rehearsal (one
# thread answers the engine's calls) or in a server answering one caller (a request of another
# caller answered meanwhile would get the shared key too). What was there before is put back,
# whatever it was.
_generate_certificate = moto.acm.models.CertBundle.generate_cert.__func__
_validate_private_key = moto.acm.models.CertBundle.validate_pk
_rsa = cryptography.hazmat.primitives.asymmetric.rsa
_serialization = cryptography.hazmat.primitives.serialization
_CERTIFICATE_KEYS: dict[tuple[int, int], Any] = {}  # (public exponent, size) -> key
_SHARED_KEYS_BY_PEM: dict[bytes, Any] = {}  # the shared keys, as moto writes them, -> key


@classmethod
def _certificate_with_the_shared_key(cls, *args, **kwargs):
    previous = _rsa.generate_private_key

    def shared_key(public_exponent: int, key_size: int, backend: Any = None) -> Any:
        kind = (public_exponent, key_size)
        if kind not in _CERTIFICATE_KEYS:
            key = previous(public_exponent=public_exponent, key_size=key_size)
            _CERTIFICATE_KEYS[kind] = key
            _SHARED_KEYS_BY_PEM[_pem(key)] = key
        return _CERTIFICATE_KEYS[kind]

    _rsa.generate_private_key = shared_key
    try:
        return _generate_certificate(cls, *args, **kwargs)
    finally:
        _rsa.generate_private_key = previous


def _pem(key: Any) -> bytes:
    return key.private_bytes(  # as CertBundle.generate_cert writes it
        encoding=_serialization.Encoding.PEM,
        format=_serialization.PrivateFormat.TraditionalOpenSSL,
        encryption_algorithm=_serialization.NoEncryption(),
    )


def _known_or_validated_private_key(self: moto.acm.models.CertBundle) -> Any:
    """moto then reads the key back from its PEM text, checking the RSA key (30 ms each, a
    fortieth of a rehearsal). The shared key was made here and is known good; any other key (an
    imported certificate's) is still read and checked by moto."""
    known = _SHARED_KEYS_BY_PEM.get(self.key) if isinstance(self.key, bytes) else None
    return known if known is not None else _validate_private_key(self)


moto.acm.models.CertBundle.generate_cert = _certificate_with_the_shared_key
moto.acm.models.CertBundle.validate_pk = _known_or_validated_private_key
