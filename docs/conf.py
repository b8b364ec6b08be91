"""Sphinx configuration of the sknoise documentation.

Build with ``sphinx-build -W --keep-going -b html docs docs/_build/html`` from
the repository root, after ``pip install -e ".[docs]"``.
"""

import importlib.util
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# The user guide's diagrams are drawn by a helper module next to this file,
# and sklearn_links is a local extension.
sys.path.insert(0, str(HERE))

# The docs build owns its process and executes the gallery: choose the
# fastest installed Keras backend before anything imports Keras. The library
# itself never sets the backend.
if importlib.util.find_spec("jax") is not None:
    os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")

import sknoise  # noqa: E402

project = "sknoise"
author = "The sknoise developers"
copyright = "the sknoise developers"
version = release = sknoise.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    # MathJax shipped with the docs (in _static/mathjax), not from a CDN:
    # the maths renders offline.
    "sphinx-mathjax-offline",
    "numpydoc",
    "matplotlib.sphinxext.plot_directive",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
    # Links scikit-learn names to scikit-learn's pages, without a download.
    "sklearn_links",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "auto_examples/*.ipynb", "**/*.py.md5"]
# Only reStructuredText pages; Markdown (the benchmark tables) is included
# from them with myst-parser.
source_suffix = {".rst": "restructuredtext"}
root_doc = "index"

# API reference: one page per public object, methods on the class's page.
autosummary_generate = True
# "On this page" lists a class's methods as fit(), predict()...: with the
# class name before each, the narrow column cut the names off.
toc_object_entries_show_parents = "hide"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_validation_checks = set()

# The user guide's diagrams: PNG only, no source or format links.
plot_include_source = False
plot_html_show_source_link = False
plot_html_show_formats = False
plot_formats = [("png", 110)]
plot_rcparams = {"figure.autolayout": False}

# The gallery runs every example at build time, so examples cannot rot.
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "within_subsection_order": "FileNameSortKey",
    "abort_on_example_error": True,
    "download_all_examples": False,
    "remove_config_comments": True,
    "image_scrapers": ("matplotlib",),
    "matplotlib_animations": False,
    # No execution-times page: it loads its table scripts from CDNs, and the
    # built site is meant to work offline.
    "write_computation_times": False,
}

html_theme = "pydata_sphinx_theme"
html_title = f"sknoise {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
}
# Pages without sub-pages need no left sidebar.
html_sidebars = {
    page: []
    for page in ("index", "getting_started", "user_guide", "how_to", "benchmarks")
}
html_static_path = []
html_show_sourcelink = False
# The site is published at sknoise._docstrings.DOCS_URL, where the
# estimators' HTML representation links (its "?"), to the pages of api.rst's
# generated/ folder. No html_baseurl: it would give every page a canonical
# <link> to that host, and the built site is meant to work offline.
