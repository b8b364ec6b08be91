"""Statistics of resampled scores."""

import numpy as np


def corrected_comparison(scores, best, n_train, n_test):
    """Nadeau-Bengio corrected resampled t-test of each row against ``best``.

    ``scores`` has one row per candidate and one column per resampled split
    (the same splits for every row); ``n_train`` and ``n_test`` are the rows
    of a split's two parts. The correction ``1 / n_splits + n_test / n_train``
    accounts for the overlap of the training sets (Nadeau and Bengio, 2003).
    Returns, per candidate, the half-width of the 95% interval of its mean
    score and the two-sided p-value of its difference from the best one.
    """
    from scipy import stats

    n_splits = scores.shape[1]
    correction = 1 / n_splits + n_test / n_train
    t_crit = stats.t.ppf(0.975, n_splits - 1)
    half_widths = t_crit * np.sqrt(correction * scores.var(axis=1, ddof=1))
    p_values = []
    for row in scores:
        diff = row - scores[best]
        spread = np.sqrt(correction * diff.var(ddof=1))
        if spread == 0:
            p_values.append(1.0 if diff.mean() == 0 else 0.0)
            continue
        t_stat = diff.mean() / spread
        p_values.append(float(2 * stats.t.sf(abs(t_stat), n_splits - 1)))
    return half_widths, np.array(p_values)
