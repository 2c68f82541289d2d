import Foundation

/// How the learning rate moves over a run.
public enum LearningRateSchedule: String, Codable, Sendable, CaseIterable {
    /// The base rate throughout (after warm-up).
    case constant
    /// Half a cosine from the base rate down to a tenth of it at the last step.
    case cosine
}

/// The learning rate at each step: a linear warm-up from 0, then the chosen schedule.
public struct LearningRatePlan: Codable, Sendable, Equatable {
    /// The peak learning rate, reached at the end of warm-up.
    public var base: Double
    /// How the rate moves after warm-up.
    public var schedule: LearningRateSchedule
    /// Steps of linear warm-up: step s (0-based) uses base · (s + 1) / warmupSteps; 0 for none.
    public var warmupSteps: Int
    /// Steps the cosine spans. Known from `--steps` or `--epochs`; for a `--time` budget the trainer
    /// estimates it once from the measured speed and then keeps it, so resumed runs agree.
    public var totalSteps: Int?

    /// The floor of the cosine, as a fraction of the base rate.
    public static let cosineFloor = 0.1

    /// A plan from its parts; `totalSteps` may be nil when the cosine's length is not known yet.
    public init(base: Double, schedule: LearningRateSchedule, warmupSteps: Int, totalSteps: Int?) {
        self.base = base
        self.schedule = schedule
        self.warmupSteps = warmupSteps
        self.totalSteps = totalSteps
    }

    /// The rate for the update at 0-based `step`.
    public func rate(atStep step: Int) -> Double {
        if step < warmupSteps { return base * Double(step + 1) / Double(warmupSteps) }
        guard schedule == .cosine, let total = totalSteps, total > warmupSteps else { return base }
        let progress = min(1, Double(step - warmupSteps) / Double(max(1, total - warmupSteps - 1)))
        let floor = base * Self.cosineFloor
        return floor + (base - floor) * 0.5 * (1 + cos(Double.pi * progress))
    }
}
