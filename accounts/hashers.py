"""Argon2id, tuned for this application's sign-in (see benchmarks/signin.py for the figures).

Django's own Argon2 hasher (Argon2id since Django 3.2) asks for 100 MiB and
eight lanes per hash: on a two-core server that is most of a second of CPU per
sign-in, and several at once queue behind each other. These parameters follow
OWASP's first recommendation for Argon2id (19 MiB, two passes, one lane), each
adjustable from the environment. The algorithm name stays "argon2", so hashes
made with other parameters still verify and are re-hashed with these at the
next sign-in, as PBKDF2 hashes are.
"""

from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher


class Argon2idPasswordHasher(Argon2PasswordHasher):
    @property
    def time_cost(self):
        return settings.ARGON2_TIME_COST

    @property
    def memory_cost(self):
        return settings.ARGON2_MEMORY_KIB

    @property
    def parallelism(self):
        return settings.ARGON2_PARALLELISM
