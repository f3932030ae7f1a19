"""Reference values for test/unit/train/linear-probe.test.ts.

scikit-learn 1.2.1 (Debian python3-sklearn) LogisticRegression(solver='lbfgs') on StandardScaler
features, run tightly converged so that the comparison measures the TypeScript probe, not sklearn's
stopping rule. Features: MedMNIST images average-pooled over 4×4 blocks (28×28 → 7×7 per channel),
computed the same way in the test. Writes linear_probe_reference.json next to this file:
    /usr/bin/python3 test/unit/train/reference/linear_probe_reference.py [path/to/shared/data/medmnist]
"""
import json
import os
import sys

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import cohen_kappa_score, roc_auc_score
from sklearn.preprocessing import StandardScaler

HERE = os.path.dirname(os.path.abspath(__file__))
MEDMNIST = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, '..', '..', '..', '..', '..', 'shared', 'data', 'medmnist')
GRID = [0.01, 0.1, 1, 10, 100]


def pooled(images):
    x = images.astype(np.float64)
    if x.ndim == 3:
        x = x[..., None]
    n, h, w, c = x.shape
    x = x.reshape(n, h // 4, 4, w // 4, 4, c).mean(axis=(2, 4))  # [n, 7, 7, C], channels last
    return x.reshape(n, -1).astype(np.float32)


def load(name):
    d = np.load(os.path.join(MEDMNIST, name))
    return {s: (pooled(d[f'{s}_images']), d[f'{s}_labels'].reshape(-1).astype(int)) for s in ('train', 'val', 'test')}


def fit(train, C, class_weight):
    scaler = StandardScaler().fit(train[0])
    model = LogisticRegression(C=C, solver='lbfgs', class_weight=class_weight, tol=1e-12, max_iter=100000)
    model.fit(scaler.transform(train[0]), train[1])
    return lambda x: model.predict_proba(scaler.transform(x))


def selection(kind, p, y):
    if kind == 'ordinal':
        return float(cohen_kappa_score(y, p.argmax(1), weights='quadratic', labels=list(range(p.shape[1]))))
    return float(roc_auc_score(y, p[:, 1])) if p.shape[1] == 2 else float(roc_auc_score(y, p, multi_class='ovr'))


out = {'sklearn': __import__('sklearn').__version__, 'cases': []}
for file, kind, C, cw in [('retinamnist.npz', 'ordinal', 1, None), ('retinamnist.npz', 'ordinal', 0.1, 'balanced'),
                          ('breastmnist_resaved.npz', 'multiclass', 1, 'balanced')]:
    data = load(file)
    p = fit(data['train'], C, cw)(data['test'][0])
    out['cases'].append({'file': file, 'kind': kind, 'C': C, 'classWeighting': cw or 'none',
                         'accuracy': float((p.argmax(1) == data['test'][1]).mean()),
                         'probabilities': [round(float(v), 7) for v in p.reshape(-1)]})
# Retina pixels are nearly collinear: C ≥ 10 takes thousands of iterations, so its grid stops at 1.
for file, kind, cw, grid in [('retinamnist.npz', 'ordinal', 'balanced', [0.01, 0.1, 1]), ('breastmnist_resaved.npz', 'multiclass', 'balanced', GRID)]:
    data = load(file)
    scores = [selection(kind, fit(data['train'], C, cw)(data['val'][0]), data['val'][1]) for C in grid]
    best = grid[int(np.argmax(scores))]  # first maximum = smallest C on ties
    out.setdefault('grids', []).append({'file': file, 'kind': kind, 'classWeighting': cw, 'grid': grid, 'scores': scores, 'C': best})
with open(os.path.join(HERE, 'linear_probe_reference.json'), 'w') as f:
    json.dump(out, f)
print(json.dumps({**out, 'cases': [{k: v for k, v in c.items() if k != 'probabilities'} for c in out['cases']]}, indent=1))
