"""Link references to scikit-learn objects to scikit-learn's documentation.

``:class:`~sklearn.pipeline.Pipeline``` and the numpydoc "See Also" entries
name scikit-learn objects. Intersphinx would need scikit-learn's inventory,
downloaded at build time or committed (large, and stale with every release).
Instead, this extension resolves any ``sklearn.`` reference Sphinx cannot
resolve itself from the installed scikit-learn: the name must import, and
its page follows scikit-learn's layout (one page per public class or
function, one per module). A name that does not import is a warning, so a
build with ``-W`` fails on a misspelt reference instead of rendering it as
plain code. The build needs no network.
"""

import importlib

from docutils import nodes
from sphinx.util import logging

BASE = "https://scikit-learn.org/stable"
logger = logging.getLogger(__name__)


def sklearn_url(name):
    """The documentation page of the public scikit-learn object ``name``.

    None if ``name`` is private or does not import.
    """
    parts = name.split(".")
    if parts[0] != "sklearn" or any(part.startswith("_") for part in parts):
        return None
    for split in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        break
    else:
        return None
    attributes = parts[split:]
    for attribute in attributes:
        obj = getattr(obj, attribute, None)
        if obj is None:
            return None
    if not attributes:  # a module
        return f"{BASE}/api/{name}.html"
    page = ".".join(parts[: split + 1])
    url = f"{BASE}/modules/generated/{page}.html"
    # A method or attribute is an anchor on its class's page.
    return url if len(attributes) == 1 else f"{url}#{name}"


def resolve(app, env, node, contnode):
    """``missing-reference`` handler: link ``sklearn.*`` Python references."""
    target = node.get("reftarget", "")
    if node.get("refdomain") != "py" or not target.startswith("sklearn."):
        return None
    url = sklearn_url(target)
    if url is None:
        logger.warning(f"unknown scikit-learn reference {target!r}", location=node)
        return None
    reference = nodes.reference(
        "", "", internal=False, refuri=url, reftitle=f"(in scikit-learn) {target}"
    )
    reference += contnode
    return reference


def setup(app):
    app.connect("missing-reference", resolve)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
