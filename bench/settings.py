"""Settings of the benchmark server: the project's, plus the serializer baseline views."""

from cityincidents.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
