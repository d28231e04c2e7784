"""The portal's production settings with the benchmark's URLs: the floor views exist only here."""

from network_portal.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
