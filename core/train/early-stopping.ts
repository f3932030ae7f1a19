/**
 * When a run stops early. The best epoch is the one with the best selection metric (the tensors kept);
 * patience counts the epochs in which neither that metric nor the validation loss improved. On a small
 * validation split a metric like quadratic kappa can peak by chance early on while the loss still falls:
 * stopping on the metric alone then ended runs that were still learning (RetinaMNIST, 120 validation
 * cases: DVPT stopped at epoch 9 keeping epoch 4, test kappa 0.30, while its PyTorch twin trained on to
 * 0.50; docs/training.md). A loss counts as improved when it falls by more than a relative 1e-4 (a learning rate
 * too small to change anything must not keep a run going). Stopping waits until `minEpochs` have run.
 */
const MIN_RELATIVE_LOSS_GAIN = 1e-4;

export class EarlyStopping {
  private best = -Infinity;
  private bestLoss = Infinity;
  private since = 0;
  private epochs = 0;

  constructor(
    private readonly patience: number,
    private readonly minEpochs: number,
  ) {}

  /**
   * One epoch's selection value (larger is better) and validation loss (undefined without validation cases).
   * Returns whether this epoch is the new best, and whether the run stops after it.
   */
  update(value: number, valLoss?: number): { best: boolean; stop: boolean } {
    this.epochs++;
    const best = value > this.best;
    const lossImproved = valLoss !== undefined && (this.bestLoss === Infinity || valLoss < this.bestLoss - MIN_RELATIVE_LOSS_GAIN * Math.abs(this.bestLoss));
    if (best) this.best = value;
    if (valLoss !== undefined && valLoss < this.bestLoss) this.bestLoss = valLoss;
    this.since = best || lossImproved ? 0 : this.since + 1;
    return { best, stop: this.patience > 0 && this.since >= this.patience && this.epochs >= this.minEpochs };
  }
}
