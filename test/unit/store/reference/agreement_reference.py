"""Reference agreement values for test/unit/store/agreement.test.ts, computed live by the test.

Reads JSON from stdin: {"pairs": [{"a": [...], "b": [...], "classes": K, "weights": null | "quadratic"}],
"fleiss": [{"ratings": [[...], ...], "classes": K}]} and prints {"cohen": [...], "fleiss": [...]}.
Cohen's kappa is scikit-learn's cohen_kappa_score; Fleiss' kappa is written out from Fleiss (1971),
generalised to a varying number of ratings per case.
"""
import json
import sys

import numpy as np
from sklearn.metrics import cohen_kappa_score


def fleiss(ratings, k):
    rows = [r for r in ratings if len(r) >= 2]
    counts = np.zeros((len(rows), k))
    for i, r in enumerate(rows):
        for c in r:
            counts[i, c] += 1
    n = counts.sum(axis=1)
    p_i = (counts * (counts - 1)).sum(axis=1) / (n * (n - 1))
    p_j = counts.sum(axis=0) / counts.sum()
    pe = (p_j ** 2).sum()
    return float((p_i.mean() - pe) / (1 - pe))


spec = json.load(sys.stdin)
out = {
    "cohen": [float(cohen_kappa_score(p["a"], p["b"], labels=list(range(p["classes"])), weights=p["weights"])) for p in spec["pairs"]],
    "fleiss": [fleiss(f["ratings"], f["classes"]) for f in spec["fleiss"]],
}
print(json.dumps(out))
