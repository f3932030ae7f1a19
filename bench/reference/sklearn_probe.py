"""scikit-learn LogisticRegression on the frozen features eval:medmnist writes (<out>.features.json):
the reference for MedTune's linear probe. Standardised features, lbfgs, class_weight none/balanced,
C from the same grid chosen on val by quadratic-weighted kappa (RetinaMNIST grades are ordinal),
then test ACC / macro AUC / kappa once. Usage: python3 sklearn_probe.py FEATURES.json [--out OUT.json]
"""
import json
import sys

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, cohen_kappa_score, roc_auc_score
from sklearn.preprocessing import StandardScaler

GRID = [0.01, 0.1, 1, 10, 100]


def split(data: dict, name: str, dim: int) -> tuple[np.ndarray, np.ndarray]:
    part = data[name]
    return np.asarray(part["features"], dtype=np.float64).reshape(-1, dim), np.asarray(part["labels"], dtype=np.int64)


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    data = json.load(open(argv[1]))
    dim = data["dim"]
    (xtr, ytr), (xva, yva), (xte, yte) = (split(data, s, dim) for s in ("train", "val", "test"))
    scaler = StandardScaler().fit(xtr)
    xtr, xva, xte = scaler.transform(xtr), scaler.transform(xva), scaler.transform(xte)
    rows = []
    for weighting in ("none", "balanced"):
        best = None
        for c in GRID:
            model = LogisticRegression(C=c, max_iter=5000, class_weight=None if weighting == "none" else "balanced")
            model.fit(xtr, ytr)
            kappa = cohen_kappa_score(yva, model.predict(xva), weights="quadratic")
            if best is None or kappa > best[0]:
                best = (kappa, c, model)
        kappa, c, model = best
        p = model.predict_proba(xte)
        pred = p.argmax(1)
        row = {
            "method": f"sklearn-logreg-{weighting}",
            "C": c,
            "val": {"kappa": kappa},
            "test": {
                "accuracy": accuracy_score(yte, pred),
                "macroAuc": roc_auc_score(yte, p, multi_class="ovr", average="macro"),
                "kappa": cohen_kappa_score(yte, pred, weights="quadratic"),
            },
        }
        rows.append(row)
        t = row["test"]
        print(f"{row['method']}: C {c}, val kappa {kappa:.3f}, test ACC {t['accuracy']:.3f}, AUC {t['macroAuc']:.3f}, kappa {t['kappa']:.3f}")
    if "--out" in argv:
        json.dump(rows, open(argv[argv.index("--out") + 1], "w"), indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
