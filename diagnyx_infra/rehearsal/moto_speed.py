"""What the emulator changes in moto to answer faster, without changing any answer: for the
in-process rehearsal, `diagnyx emulator` and the tests' moto servers. Imported for its effect,
once."""

import functools
from typing import Any

import botocore.session
import cryptography
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

# moto lists a response class's methods (inspect.getmembers) on every request it answers; once
# per class is enough (a tenth of a rehearsal's time). Code that adds a method to a response
# class (world.cost_allocation_tags_answered) calls forget_response_methods.
moto.core.responses.method_names_from_class = functools.cache(
    moto.core.responses.method_names_from_class
)


def forget_response_methods() -> None:
    """A response class gained or lost a method: list every class's again."""
    cached = moto.core.responses.method_names_from_class
    if hasattr(cached, "cache_clear"):
        cached.cache_clear()


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
# each); no step reads a certificate's key, so the emulator's share one per kind. moto's ACM
# reaches the generator as `cryptography.hazmat.primitives.asymmetric.rsa.generate_private_key`
# through its own module's name `cryptography`: that name alone is given a view of the package
# in which the generator hands out the shared keys. Every other user of the package, in any
# thread (an EC2 key pair, a KMS RSA key), still gets a new key of its own.
_rsa = cryptography.hazmat.primitives.asymmetric.rsa
_serialization = cryptography.hazmat.primitives.serialization
_CERTIFICATE_KEYS: dict[tuple[int, int], Any] = {}  # (public exponent, size) -> key
_SHARED_KEYS_BY_PEM: dict[bytes, Any] = {}  # the shared keys, as moto writes them, -> key


def _shared_certificate_key(public_exponent: int, key_size: int, backend: Any = None) -> Any:
    kind = (public_exponent, key_size)
    if kind not in _CERTIFICATE_KEYS:
        key = _rsa.generate_private_key(public_exponent=public_exponent, key_size=key_size)
        _SHARED_KEYS_BY_PEM[_pem(key)] = key
        _CERTIFICATE_KEYS[kind] = key
    return _CERTIFICATE_KEYS[kind]


class _Seen:
    """A module as one importer sees it: its own attributes but those ``replaced``."""

    def __init__(self, module: Any, **replaced: Any) -> None:
        self._module = module
        self._replaced = replaced

    def __getattr__(self, name: str) -> Any:
        if name in self._replaced:
            return self._replaced[name]
        return getattr(self._module, name)


def _pem(key: Any) -> bytes:
    return key.private_bytes(  # as CertBundle.generate_cert writes it
        encoding=_serialization.Encoding.PEM,
        format=_serialization.PrivateFormat.TraditionalOpenSSL,
        encryption_algorithm=_serialization.NoEncryption(),
    )


_validate_private_key = moto.acm.models.CertBundle.validate_pk


def _known_or_validated_private_key(self: moto.acm.models.CertBundle) -> Any:
    """moto then reads the key back from its PEM text, checking the RSA key (30 ms each, a
    fortieth of a rehearsal). The shared key was made here and is known good; any other key (an
    imported certificate's) is still read and checked by moto."""
    known = _SHARED_KEYS_BY_PEM.get(self.key) if isinstance(self.key, bytes) else None
    return known if known is not None else _validate_private_key(self)


if not isinstance(moto.acm.models.cryptography, _Seen):
    _package = cryptography
    moto.acm.models.cryptography = _Seen(
        _package,
        hazmat=_Seen(
            _package.hazmat,
            primitives=_Seen(
                _package.hazmat.primitives,
                asymmetric=_Seen(
                    _package.hazmat.primitives.asymmetric,
                    rsa=_Seen(_rsa, generate_private_key=_shared_certificate_key),
                ),
            ),
        ),
    )
    moto.acm.models.CertBundle.validate_pk = _known_or_validated_private_key
