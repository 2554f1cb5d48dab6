"""Every check of the minigrad monorepo: `nox` runs what CI needs, `nox -l` lists it.

Run one package's checks with a tag (`nox -t core`, `nox -t nn`, `nox -t data`) or one
session by name (`nox -s "tests-3.12(core)"`). In-repo packages are always installed
from their folders or from wheels built here, never from an index: `minigrad` on PyPI is
an unrelated project.
"""

from __future__ import annotations

import email.parser
import os
import shutil
import zipfile
from pathlib import Path

import nox
from packaging.requirements import Requirement

# Interpreters come from the machine (pyenv, the OS, python.org), never downloaded.
os.environ.setdefault("UV_PYTHON_DOWNLOADS", "never")

nox.needs_version = ">=2024.4.15"
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.error_on_missing_interpreters = True
nox.options.reuse_existing_virtualenvs = False

ROOT = Path(__file__).parent
PYTHONS = ["3.10", "3.11", "3.12", "3.13"]
OLDEST_PYTHON, NEWEST_PYTHON = PYTHONS[0], PYTHONS[-1]
# The oldest NumPy we support (the floor in every package's dependencies); tested on
# the oldest Python, while the newest Python gets the newest NumPy.
OLDEST_NUMPY = "1.24"

# Each package with the in-repo packages it depends on (installed with it, in one call).
# Tests use one BLAS thread: small matrices gain nothing from more, and on a busy
# 2-core machine oversubscribed threads make the suite many times slower.
ONE_THREAD = {name: "1" for name in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS")}

# Linters are pinned so that a new release cannot fail a commit that passed before.
RUFF = "ruff==0.17.6"
MYPY = "mypy==2.4.1"

PACKAGES = {
    "core": ["core"],
    "nn": ["core", "nn"],
    "data": ["data"],
}


# Printed by each test session, so a log shows what was tested.
_VERSIONS = "import sys, numpy; print('Python', sys.version.split()[0], 'NumPy', numpy.__version__)"


def _dir(package: str) -> str:
    return f"packages/minigrad-{package}"


def _package_params() -> list[nox.param]:
    return [nox.param(p, id=p, tags=[p]) for p in PACKAGES]


def _numpy_spec(python: str | None) -> str:
    return f"numpy=={OLDEST_NUMPY}.*" if python == OLDEST_PYTHON else "numpy"


@nox.session(python=PYTHONS)
@nox.parametrize("package", _package_params())
def tests(session: nox.Session, package: str) -> None:
    """Test one package alone (only its declared dependencies installed).

    On the oldest Python with the oldest NumPy supported, on the others with the newest.
    """
    folders = [_dir(p) for p in PACKAGES[package]]
    session.install(*folders, _numpy_spec(session.python), "pytest")
    session.run("python", "-c", _VERSIONS, silent=False)
    session.run("pytest", f"{_dir(package)}/tests", *session.posargs, env=ONE_THREAD)


def _build(session: nox.Session, package: str, outdir: Path, *, sdist: bool) -> list[Path]:
    """Build one package's wheel (and sdist) into `outdir`; return the new files."""
    before = set(outdir.glob("*"))
    kinds = ["--sdist", "--wheel"] if sdist else ["--wheel"]
    session.run("uv", "build", "--quiet", *kinds, "--out-dir", str(outdir), _dir(package))
    return sorted(set(outdir.glob("*")) - before)


@nox.session(python=NEWEST_PYTHON)
@nox.parametrize("package", _package_params())
def wheel(session: nox.Session, package: str) -> None:
    """Install the built wheel à la carte in a fresh env with no index, then test it.

    core alone; nn, which must pull core from the wheels through its declared
    dependency; data alone. Then the package's tests and the namespace checks.
    """
    session.install("uv")
    wheelhouse = Path(session.create_tmp()) / "wheelhouse"
    wheelhouse.mkdir(exist_ok=True)
    for old in wheelhouse.glob("*"):
        old.unlink()
    for p in PACKAGES[package]:
        _build(session, p, wheelhouse, sdist=False)
    # Third-party test tools first, from the index; then ours from the wheels only. SciPy
    # runs core's check that value_and_grad drives scipy.optimize.minimize (jac=True).
    session.install("numpy", "pytest", *(["scipy"] if package == "core" else []))
    ours = [f"minigrad-{p}" for p in PACKAGES[package]]
    # uv caches wheels by name and version: have it take these fresh builds, not old ones.
    fresh = [arg for name in ours for arg in ("--refresh-package", name)]
    fresh = fresh if session.venv_backend == "uv" else []
    session.install("--no-index", "--find-links", str(wheelhouse), *fresh, f"minigrad-{package}")
    tests = [f"{_dir(package)}/tests", "tests/test_alacarte.py"]
    session.run("pytest", *tests, *session.posargs, env=ONE_THREAD)


@nox.session(python=NEWEST_PYTHON, tags=["examples"])
def examples(session: nox.Session) -> None:
    """Run the examples and the cross-package tests with all three installed (editable)."""
    editable = [arg for p in PACKAGES for arg in ("-e", _dir(p))]
    session.install(*editable, "-r", "examples/requirements.txt", "pytest")
    session.run("pytest", "tests", *session.posargs, env=ONE_THREAD)


@nox.session(python=NEWEST_PYTHON, tags=["lint"])
def lint(session: nox.Session) -> None:
    """Ruff: lint rules and formatting."""
    session.install(RUFF)
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python=NEWEST_PYTHON, tags=["lint"])
def typecheck(session: nox.Session) -> None:
    """Mypy, strict, on all three packages installed together."""
    session.install(*(_dir(p) for p in PACKAGES), MYPY)
    session.run("mypy", "--strict", "-p", "minigrad")


@nox.session(python=NEWEST_PYTHON, tags=["build"])
def build(session: nox.Session) -> None:
    """Build each sdist and wheel, check them, and check that they fit together.

    Fails when twine's strict check fails, when two wheels ship the same file, or when
    an in-repo dependency range stops admitting the in-repo version.
    """
    session.install("uv", "twine")
    dist = ROOT / "dist"
    dist.mkdir(exist_ok=True)
    for old in dist.glob("minigrad_*"):
        old.unlink()
    for package in PACKAGES:
        _build(session, package, dist, sdist=True)
    files = sorted(str(f) for f in dist.glob("minigrad_*"))
    session.run("twine", "check", "--strict", *files)
    _check_wheels(session, sorted(dist.glob("*.whl")))


def _check_wheels(session: nox.Session, wheels: list[Path]) -> None:
    """No file in two wheels; every in-repo dependency range admits the in-repo version."""
    owner: dict[str, str] = {}
    versions: dict[str, str] = {}
    requires: dict[str, list[Requirement]] = {}
    for whl in wheels:
        with zipfile.ZipFile(whl) as archive:
            for name in archive.namelist():
                if ".dist-info/" in name:
                    if name.endswith(".dist-info/METADATA"):
                        meta = email.parser.Parser().parsestr(archive.read(name).decode())
                        versions[meta["Name"]] = meta["Version"]
                        requires[meta["Name"]] = [
                            Requirement(r) for r in meta.get_all("Requires-Dist") or []
                        ]
                    continue
                if name in owner:
                    session.error(f"{name} is shipped by both {owner[name]} and {whl.name}")
                owner[name] = whl.name
    session.log(f"no overlap: {len(owner)} files in {len(wheels)} wheels")
    for dist, reqs in requires.items():
        for req in reqs:
            if req.name in versions:
                version = versions[req.name]
                if not req.specifier.contains(version, prereleases=True):
                    session.error(f"{dist} needs {req}, which does not admit the in-repo {version}")
                session.log(f"{dist} needs {req}: in-repo {req.name} {version} fits")


# The documentation site: Sphinx reads the docstrings (numpydoc) and runs the tutorials
# (MyST notebooks, myst-nb); pinned like the linters, so a new release cannot break a build
# that passed. matplotlib and scikit-learn are what the tutorials use. Building takes about
# a minute on a 2-core machine, so the docs sessions are not in the default run: the test
# command runs them after it (`nox && nox -s docs-check`).
DOCS_TOOLS = [
    "sphinx==9.2.0",
    "numpydoc==1.11.0",
    "myst-nb==1.4.0",
    "furo==2025.12.19",
    "ipykernel==7.4.0",
    "matplotlib==3.11.2",
    "scikit-learn==1.9.1",
]
SELENIUM = "selenium==4.51.0"
DOCS_BUILD = "docs/_build"


@nox.session(python=NEWEST_PYTHON, default=False, tags=["docs"])
def docs(session: nox.Session) -> None:
    """Build the documentation site into docs/_build/html, running every tutorial.

    Warnings are errors: a docstring numpydoc cannot read, a broken reference, a public
    name missing from the API reference or a tutorial cell that raises fails the build.
    """
    session.install(*(_dir(p) for p in PACKAGES), *DOCS_TOOLS)
    html, doctrees = f"{DOCS_BUILD}/html", f"{DOCS_BUILD}/doctrees"
    shutil.rmtree(ROOT / html, ignore_errors=True)  # no page left over from an older build
    # -E: read every page again, so that every tutorial runs on every build.
    build = ["-E", "-W", "--keep-going", "-b", "html", "-d", doctrees, "docs", html]
    session.run("sphinx-build", *build, *session.posargs, env=ONE_THREAD)
    session.log(f"open {html}/index.html")


@nox.session(
    name="docs-check", python=NEWEST_PYTHON, default=False, requires=["docs"], tags=["docs"]
)
def docs_check(session: nox.Session) -> None:
    """Open every page of the built site in headless Chromium (built first by `docs`).

    Fails on a broken link into the site, an image that does not load, anything fetched
    from outside the site, or an error in the browser's console; screenshots of the home
    page and a tutorial go to docs/_build/screenshots. Needs Debian's chromium and
    chromium-driver (or the same programs at /usr/bin/chromium and /usr/bin/chromedriver).
    """
    session.install(SELENIUM)
    screenshots = ["--screenshots", f"{DOCS_BUILD}/screenshots"]
    session.run("python", "docs/check_site.py", f"{DOCS_BUILD}/html", *screenshots)


@nox.session(python=NEWEST_PYTHON, default=False, tags=["bench"])
def bench(session: nox.Session) -> None:
    """Speed against hand-written NumPy (and PyTorch, if installed). `-- --quick` is fast."""
    session.install(*(_dir(p) for p in PACKAGES), "threadpoolctl", "matplotlib")
    session.run("python", "benchmarks/run.py", *session.posargs)


@nox.session(python=NEWEST_PYTHON, default=False)
def dev(session: nox.Session) -> None:
    """Make `.venv` with all three packages editable plus every tool, for working on them."""
    session.install("uv")
    venv = ROOT / ".venv"
    session.run("uv", "venv", "--allow-existing", "--python", NEWEST_PYTHON, str(venv))
    editable = [arg for p in PACKAGES for arg in ("-e", _dir(p))]
    tools = ["pytest", RUFF, MYPY, "nox[uv]", "threadpoolctl"]
    requirements = ["-r", "examples/requirements.txt"]
    python = ["--python", str(venv / "bin" / "python")]
    session.run("uv", "pip", "install", *python, *editable, *requirements, *tools)
    session.log("activate it with: source .venv/bin/activate")
