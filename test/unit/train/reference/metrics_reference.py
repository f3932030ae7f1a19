"""Reference values for test/unit/train/metrics.test.ts.

Run offline with Debian's scikit-learn 1.2.1 (apt-get install python3-sklearn):
    /usr/bin/python3 test/unit/train/reference/metrics_reference.py
and paste the printed numbers into the test as literals. The inputs below are copied verbatim
into the test file.
"""
import json
import numpy as np
from sklearn.metrics import (accuracy_score, average_precision_score, cohen_kappa_score,
                             confusion_matrix, f1_score, precision_recall_fscore_support,
                             roc_auc_score)

# Multiclass, 3 classes, 12 cases; rows 2/3 and 8/9 share scores (ties for AUC).
P3 = np.array([
    [0.7, 0.2, 0.1], [0.2, 0.5, 0.3], [0.3, 0.3, 0.4], [0.3, 0.3, 0.4],
    [0.1, 0.8, 0.1], [0.6, 0.1, 0.3], [0.2, 0.2, 0.6], [0.4, 0.4, 0.2],
    [0.5, 0.25, 0.25], [0.5, 0.25, 0.25], [0.1, 0.3, 0.6], [0.3, 0.6, 0.1],
])
Y3 = np.array([0, 1, 2, 0, 1, 0, 2, 1, 2, 0, 2, 1])

# Ordinal, 5 grades, 15 cases.
P5 = np.array([
    [0.6, 0.2, 0.1, 0.05, 0.05], [0.1, 0.6, 0.2, 0.05, 0.05], [0.1, 0.2, 0.5, 0.1, 0.1],
    [0.05, 0.05, 0.2, 0.6, 0.1], [0.05, 0.05, 0.1, 0.2, 0.6], [0.3, 0.4, 0.2, 0.05, 0.05],
    [0.5, 0.3, 0.1, 0.05, 0.05], [0.1, 0.1, 0.2, 0.5, 0.1], [0.2, 0.2, 0.3, 0.2, 0.1],
    [0.4, 0.3, 0.2, 0.05, 0.05], [0.05, 0.1, 0.15, 0.3, 0.4], [0.1, 0.5, 0.2, 0.1, 0.1],
    [0.7, 0.1, 0.1, 0.05, 0.05], [0.1, 0.1, 0.6, 0.1, 0.1], [0.05, 0.05, 0.1, 0.4, 0.4],
])
Y5 = np.array([0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 4, 2, 0, 3, 4])

# Multilabel, 4 labels, 8 cases; labels 2 and 3 have ties across positives and negatives.
PM = np.array([
    [0.9, 0.1, 0.3, 0.5], [0.8, 0.7, 0.2, 0.5], [0.65, 0.6, 0.9, 0.5], [0.4, 0.55, 0.1, 0.2],
    [0.6, 0.3, 0.8, 0.9], [0.1, 0.9, 0.4, 0.2], [0.3, 0.2, 0.7, 0.5], [0.7, 0.5, 0.8, 0.1],
])
YM = np.array([
    [1, 0, 0, 1], [1, 1, 0, 0], [0, 1, 1, 1], [0, 0, 0, 0],
    [1, 0, 1, 1], [0, 1, 0, 0], [0, 0, 1, 1], [1, 1, 0, 0],
])

def single(P, Y, C):
    pred = P.argmax(axis=1)
    pr, rc, f1, sup = precision_recall_fscore_support(Y, pred, labels=range(C), zero_division=0)
    return {
        'accuracy': accuracy_score(Y, pred),
        'confusion': confusion_matrix(Y, pred, labels=range(C)).tolist(),
        'precision': pr.tolist(), 'recall': rc.tolist(), 'f1': f1.tolist(), 'support': sup.tolist(),
        'macroF1': f1_score(Y, pred, labels=range(C), average='macro', zero_division=0),
        'aucPerClass': [roc_auc_score(Y == k, P[:, k]) for k in range(C)],
        'macroAucOvr': roc_auc_score(Y, P, multi_class='ovr', average='macro', labels=range(C)),
        'kappa': cohen_kappa_score(Y, pred, labels=range(C)),
        'kappaLinear': cohen_kappa_score(Y, pred, labels=range(C), weights='linear'),
        'kappaQuadratic': cohen_kappa_score(Y, pred, labels=range(C), weights='quadratic'),
    }

out = {
    'multiclass3': single(P3, Y3, 3),
    'ordinal5': single(P5, Y5, 5),
    'multilabel': {
        'ap': [average_precision_score(YM[:, k], PM[:, k]) for k in range(4)],
        'mAP': average_precision_score(YM, PM, average='macro'),
        'auc': [roc_auc_score(YM[:, k], PM[:, k]) for k in range(4)],
        'macroAuc': roc_auc_score(YM, PM, average='macro'),
    },
    # sklearn docs/Wikipedia-style kappa example on raw ratings (two raters, 3 categories).
    'kappaRatings': {
        'none': cohen_kappa_score([0, 1, 2, 2, 0, 1, 2, 0, 1, 1], [0, 1, 1, 2, 0, 2, 2, 1, 1, 0], labels=range(3)),
        'linear': cohen_kappa_score([0, 1, 2, 2, 0, 1, 2, 0, 1, 1], [0, 1, 1, 2, 0, 2, 2, 1, 1, 0], labels=range(3), weights='linear'),
        'quadratic': cohen_kappa_score([0, 1, 2, 2, 0, 1, 2, 0, 1, 1], [0, 1, 1, 2, 0, 2, 2, 1, 1, 0], labels=range(3), weights='quadratic'),
    },
}
print(json.dumps(out))
