from setuptools import find_packages, setup

MAIN_REQUIREMENTS = [
    "airbyte-cdk>=7.39,<8",
    "requests>=2.32",
    "pendulum>=3.0,<4",
    "jsonschema>=4.17",
    "orjson>=3.9",
    "PyYAML>=6.0.1",
]

TEST_REQUIREMENTS = [
    "pytest>=8",
    # `make test` runs the test files on every core (-n auto --dist loadfile): most of the suite's
    # time is the connector's own processes, one per sync, each starting Python and the CDK.
    "pytest-xdist>=3.5",
    # The unit tests' HttpMocker is built on it: airbyte_cdk/test/mock_http/mocker.py (CDK 7.39.1)
    # runs `import requests_mock` on line 10, and the CDK does not require it (it is only in the CDK's
    # own dev dependencies), so without it `from airbyte_cdk.test.mock_http import HttpMocker` fails.
    "requests-mock>=1.12",
    # The official SDK's pydantic models check the fake's answers (integration_tests/test_fake_finance_catalog.py).
    "metronome-sdk>=4.12,<5",
]

setup(
    name="airbyte-source-metronome",
    version="1.0.0",
    description="Airbyte source connector for the Metronome usage-based billing API.",
    author="source-metronome contributors",
    license="MIT",
    packages=find_packages(include=["source_metronome", "source_metronome.*"]),
    python_requires=">=3.11",
    install_requires=MAIN_REQUIREMENTS,
    package_data={"source_metronome": ["spec.yaml", "schemas/*.json"]},
    extras_require={"tests": TEST_REQUIREMENTS},
    entry_points={"console_scripts": ["source-metronome=source_metronome.run:run"]},
)
