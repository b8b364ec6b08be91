"""Every public object has a valid numpydoc docstring with Examples.

The Examples themselves run as doctests (``--doctest-modules`` in
pyproject.toml); this module checks the docstrings' structure with numpydoc's
validator, and that the API reference page lists every public name.
"""

import inspect
import re
from pathlib import Path

import numpydoc.validate as numpydoc_validate
import pytest

import sknoise
import sknoise.datasets
import sknoise.onnx
import sknoise.plotting

# The numpydoc checks enforced (numpydoc.validate.ERROR_MSGS has them all).
# Left out, as scikit-learn leaves them out: ES01 (extended summary), SA01
# (a See Also section everywhere), SS05 (summary starting with a verb, which
# a data set's or a figure's summary does not), RT02 (scikit-learn names a
# single return value, ``self : object``), GL01/GL02 (docstring's first and
# last lines) and EX01 for methods (the class's Examples cover them).
CHECKED = {
    "GL03",  # double blank lines
    "GL05",  # tabs
    "GL06",  # unknown section
    "GL07",  # sections in the wrong order
    "GL08",  # no docstring
    "GL09",  # deprecation warning misplaced
    "GL10",  # reST directive with one colon
    "SS01",  # no summary
    "SS02",  # summary not capitalised
    "SS03",  # summary not ending with a period
    "SS04",  # summary with heading whitespace
    "SS06",  # summary over several lines
    "PR01",  # parameters not documented
    "PR02",  # unknown parameters documented
    "PR03",  # parameters documented in the wrong order
    "PR04",  # parameter without a type
    "PR05",  # parameter type ending with a period
    "PR06",  # "integer"/"boolean"/"string" instead of int/bool/str
    "PR07",  # parameter without a description
    "PR08",  # parameter description not capitalised
    "PR09",  # parameter description not ending with a period
    "PR10",  # "name: type" without the space before the colon
    "RT01",  # no Returns section
    "RT03",  # return value without a description
    "RT04",  # return description not capitalised
    "RT05",  # return description not ending with a period
    "YD01",  # no Yields section
    "SA02",  # See Also: missing period
    "SA03",  # See Also: description not capitalised
    "SA04",  # See Also: missing description
    "EX01",  # no Examples section (classes and functions)
}
METHOD_CHECKED = CHECKED - {"EX01"}
# The modules whose ``__all__`` make up the public API.
PUBLIC_MODULES = [sknoise, sknoise.datasets, sknoise.plotting, sknoise.onnx]


def _public_objects():
    """(dotted name, object) of every public class and function."""
    for module in PUBLIC_MODULES:
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isclass(obj) or inspect.isfunction(obj):
                yield f"{module.__name__}.{name}", obj


def _public_methods():
    """(dotted name, method) of the public methods sknoise itself defines."""
    for qualname, obj in _public_objects():
        if not inspect.isclass(obj):
            continue
        for name, member in inspect.getmembers(obj, inspect.isfunction):
            if name.startswith("_") or not member.__module__.startswith("sknoise"):
                continue
            yield f"{qualname}.{name}", member


PUBLIC = dict(_public_objects())
METHODS = dict(_public_methods())


def numpydoc_errors(dotted_name, codes):
    """numpydoc validation errors of ``dotted_name`` among ``codes``."""
    report = numpydoc_validate.validate(dotted_name)
    return [f"{code}: {message}" for code, message in report["errors"] if code in codes]


def test_public_names_found():
    # Guards the parametrisations below against an empty selection.
    assert {"sknoise.NoisyMLPClassifier", "sknoise.datasets.make_ring"} <= set(PUBLIC)
    assert "sknoise.NoisyMLPClassifier.fit" in METHODS


@pytest.mark.parametrize("dotted_name", sorted(PUBLIC))
def test_public_docstring_is_valid_numpydoc(dotted_name):
    assert numpydoc_errors(dotted_name, CHECKED) == []


@pytest.mark.parametrize("dotted_name", sorted(PUBLIC))
def test_public_docstring_has_runnable_examples(dotted_name):
    docstring = inspect.getdoc(PUBLIC[dotted_name]) or ""
    assert "Examples\n--------" in docstring
    assert ">>> " in docstring.split("Examples\n--------", 1)[1]


@pytest.mark.parametrize("dotted_name", sorted(METHODS))
def test_method_docstring_is_valid_numpydoc(dotted_name):
    assert numpydoc_errors(dotted_name, METHOD_CHECKED) == []


def test_validation_catches_a_broken_docstring():
    # The checks above can fail: an undocumented parameter, an unknown one
    # and the missing Examples are reported.
    assert {e[:4] for e in numpydoc_errors(__name__ + "._broken", CHECKED)} >= {
        "PR01",
        "PR02",
        "EX01",
    }


def _broken(first, second):
    """Return nothing.

    Parameters
    ----------
    second : int
        Documented; ``first`` is not.
    third : int
        Not a parameter.
    """


def test_api_page_lists_every_public_name():
    api = Path(__file__).resolve().parents[1] / "docs" / "api.rst"
    if not api.exists():
        pytest.skip("no docs/ here (installed package)")
    text = api.read_text()
    missing = [
        f"{module.__name__}.{name}"
        for module in PUBLIC_MODULES
        for name in module.__all__
        if name not in text
    ]
    assert missing == []


def test_sklearn_references_link_to_sklearn_pages(monkeypatch):
    # docs/sklearn_links.py turns sklearn.* references into links without a
    # download; a name that does not import gets no link (and the docs build
    # warns, which -W makes an error).
    docs = Path(__file__).resolve().parents[1] / "docs"
    if not (docs / "sklearn_links.py").exists():
        pytest.skip("no docs/ here (installed package)")
    monkeypatch.syspath_prepend(str(docs))
    from sklearn_links import sklearn_url

    base = "https://scikit-learn.org/stable"
    page = f"{base}/modules/generated/sklearn.model_selection.GridSearchCV.html"
    assert sklearn_url("sklearn.model_selection.GridSearchCV") == page
    assert sklearn_url("sklearn.model_selection.GridSearchCV.fit") == (
        f"{page}#sklearn.model_selection.GridSearchCV.fit"
    )
    assert sklearn_url("sklearn.set_config") == (
        f"{base}/modules/generated/sklearn.set_config.html"
    )
    assert sklearn_url("sklearn.pipeline") == f"{base}/api/sklearn.pipeline.html"
    assert sklearn_url("sklearn.pipeline.Pipelin") is None
    assert sklearn_url("sklearn.utils._param_validation") is None


def test_the_architecture_page_maps_every_module():
    root = Path(__file__).parents[1]
    page = (root / "docs" / "architecture.rst").read_text()
    package = root / "sknoise"
    modules = {p.relative_to(package).as_posix() for p in package.rglob("*.py")}
    modules -= {"__init__.py", "_version.py"}
    modules |= {p.name for p in (root / "benchmarks").glob("_*.py")} - {"__init__.py"}
    unmapped = sorted(m for m in modules if f"``{m}``" not in page)
    assert not unmapped, f"docs/architecture.rst does not place {unmapped}"
    # Every benchmark script is listed, and every name of a private module
    # the page gives as module.name exists there.
    scripts = {p.stem for p in (root / "benchmarks").glob("[!_]*.py")}
    unlisted = sorted(name for name in scripts if f"``{name}``" not in page)
    assert not unlisted, f"docs/architecture.rst does not list {unlisted}"
    import importlib

    for module, name in re.findall(r"``(_[a-z_]+)\.(?!py``)([A-Za-z_]+)``", page):
        if (package / f"{module}.py").is_file():
            imported = importlib.import_module(f"sknoise.{module}")
            assert hasattr(imported, name), f"sknoise.{module} has no {name}"
