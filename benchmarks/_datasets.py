"""The published data, imported when a script needs it: after
:func:`benchmarks._cli.select_backend` and after the workers' fork server
has started, so that this process's import of sknoise overlaps the
server's."""


def published_circles():
    """The first-30-points split of the published circles (see
    :func:`sknoise.datasets.load_published_circles`)."""
    from sknoise.datasets import load_published_circles

    return load_published_circles("first30")


def published_split():
    """The grid-search article's ``train_test_split`` of the same circles."""
    from sknoise.datasets import load_published_circles

    return load_published_circles("train_test_split")
