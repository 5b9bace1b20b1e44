"""The packaging check of CI (check_packaging.sh, started by .ci/run): the Dockerfile, metadata.yaml
and setup.py, checked on their own and against each other; packaging.py reads what they declare."""
