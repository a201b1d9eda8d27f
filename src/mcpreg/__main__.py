"""``python -m mcpreg`` is the ``mcpreg`` command."""

from mcpreg.cli.main import run

run()
