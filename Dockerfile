# The connector's image, as Airbyte runs it: `docker run <image> spec|check|discover|read ...`.
# The base image is metadata.yaml's connectorBuildOptions.baseImage (Python 3.11), pinned by
# digest; packaging_check/check_packaging.sh checks that the two and the versions below agree.
FROM docker.io/airbyte/python-connector-base:4.0.2@sha256:9fdb1888c4264cf6fee473649ecb593f56f58e5d0096a87ee0b231777e2e3e73

WORKDIR /airbyte/integration_code

# What setup.py installs: the package (with spec.yaml and schemas/) and the main.py entry point, with
# the versions the tests ran with (constraints.txt; packaging_check/check_packaging.py checks it is used).
COPY setup.py main.py constraints.txt ./
COPY source_metronome ./source_metronome
RUN pip install --no-cache-dir --constraint constraints.txt .

ENV AIRBYTE_ENTRYPOINT="python /airbyte/integration_code/main.py"
ENTRYPOINT ["python", "/airbyte/integration_code/main.py"]

LABEL io.airbyte.name=airbyte/source-metronome
LABEL io.airbyte.version=1.0.0

# The base image's unprivileged user `airbyte` (uid 1000), as Airbyte's own connector images run.
USER 1000
