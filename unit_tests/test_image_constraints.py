"""The image installs the dependency set the tests ran with: the packaging check's rule that the
Dockerfile's pip install takes constraints.txt, which the Makefile's installs take too."""

from pathlib import Path

from packaging_check.packaging import CONSTRAINTS, ROOT, constraints_problems, read_dockerfile


def _dockerfile(tmp_path: Path, text: str):
    path = tmp_path / "Dockerfile"
    path.write_text("FROM docker.io/airbyte/python-connector-base:4.0.2\n" + text)
    return read_dockerfile(path)


class TestImageInstallsTheConstraints:
    def test_given_the_repository_dockerfile_then_it_installs_with_the_constraints(self):
        assert constraints_problems(read_dockerfile()) == []

    def test_given_a_pip_install_without_the_constraints_then_it_is_reported(self, tmp_path):
        dockerfile = _dockerfile(tmp_path, "COPY setup.py constraints.txt ./\nRUN pip install --no-cache-dir .\n")

        assert constraints_problems(dockerfile) == [
            "Dockerfile RUN 'pip install --no-cache-dir .' does not install with --constraint constraints.txt (the versions the tests ran with)"
        ]

    def test_given_the_constraints_not_copied_into_the_image_then_it_is_reported(self, tmp_path):
        dockerfile = _dockerfile(tmp_path, "COPY setup.py ./\nRUN pip install -c constraints.txt .\n")

        assert constraints_problems(dockerfile) == ["Dockerfile does not COPY constraints.txt into the image before its pip install"]

    def test_given_the_makefile_then_every_pip_install_of_the_connector_takes_the_constraints(self):
        makefile = (ROOT / "Makefile").read_text()
        assert f"CONSTRAINTS := {CONSTRAINTS}" in makefile
        assert "PIP := $(VENV)/bin/pip install $(PIP_FLAGS) -c $(CONSTRAINTS)" in makefile
        # The connector's installs (editable); the one exception is `make constraints`, which makes them.
        installs = [line.strip() for line in makefile.splitlines() if " -e " in line and ".venv-constraints" not in line]
        assert installs == ["$(PIP) -e .", "$(PIP) -e '.[tests]'"]
