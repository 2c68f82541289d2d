/// How many validation predictions a run scores per pass, and what a pass is expected to cost.
///
/// Scoring the whole validation split of a large corpus can take longer than the training budget:
/// the last 10 % of a 100 MB corpus is 10 million symbols, minutes per pass on two cores. So
/// each pass scores a fixed, deterministic sample of the split (``Evaluator``'s evenly spread
/// segment beginnings), sized so that one pass costs at most about a tenth of the budget:
///
/// - a `--time` budget of S seconds allows S/10 seconds of scoring, at three times the measured
///   training speed (scoring a symbol is a forward pass, about a third of a training step's
///   work per symbol); the speed is measured over the session's first steps;
/// - a `--steps`/`--epochs` budget of K steps of B × T symbols allows 0.3 · K · B · T
///   predictions, with no timing involved, so such a run stays reproducible.
///
/// With both, the smaller wins. The sample never goes below ``minimumPerStream`` predictions
/// per stream (where the zero starting state of each segment would dominate) nor above the
/// split. `--val-symbols N` sets it outright. Once chosen it is kept in the checkpoint, so every
/// pass of the run, resumed or not, scores the same predictions and their losses compare.
package enum ValidationSampling {
    /// The share of the budget one validation pass may take.
    static let budgetShare = 0.1
    /// Scoring speed relative to training speed, in symbols per second.
    static let scoringSpeedup = 3.0
    /// The fewest predictions per stream a sample scores.
    static let minimumPerStream = 256

    /// The predictions a pass should score for a split of `available` predictions, scored as
    /// `batch` streams; `timeBudget` in seconds with `trainingRate` in symbols per second, and
    /// `plannedSteps` of `symbolsPerStep`, are the budgets that bound it (nil: not given). Below
    /// the split's size it is a multiple of `batch`.
    package static func sampleSize(available: Int, batch: Int, symbolsPerStep: Int, timeBudget: Double?,
                                   trainingRate: Double?, plannedSteps: Int?) -> Int {
        var caps: [Double] = []
        if let timeBudget, let trainingRate, trainingRate > 0 {
            caps.append(timeBudget * budgetShare * trainingRate * scoringSpeedup)
        }
        if let plannedSteps {
            caps.append(Double(plannedSteps) * Double(symbolsPerStep) * budgetShare * scoringSpeedup)
        }
        guard let cap = caps.min(), cap.isFinite else { return available }
        let streams = max(1, batch)
        let floor = minimumPerStream * streams
        // A whole number of predictions per stream: the sample is exactly what a pass scores.
        return min(available, max(floor, Int(cap) / streams * streams))
    }

    /// The seconds a pass over `predictions` should take: at the rate the last pass measured
    /// (seconds per prediction), else at ``scoringSpeedup`` times `trainingRate`; 0 when neither
    /// is known yet.
    package static func expectedSeconds(predictions: Int, measuredSecondsPerPrediction: Double?,
                                        trainingRate: Double) -> Double {
        if let measuredSecondsPerPrediction { return Double(predictions) * measuredSecondsPerPrediction }
        guard trainingRate > 0 else { return 0 }
        return Double(predictions) / (trainingRate * scoringSpeedup)
    }
}
