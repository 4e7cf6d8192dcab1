"""Settings of the benchmark server: the project's, plus the serializer baseline views and their app."""

from cityincidents.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
# The serializer baseline (requirements-dev.txt); the project itself does not install it.
INSTALLED_APPS = [*INSTALLED_APPS, "rest_framework_gis"]  # noqa: F405
