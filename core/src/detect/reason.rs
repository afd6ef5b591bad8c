//! Why a rising floor is not judged a leak: the test that decided against it.

/// The test that held a rising floor back from a leak verdict: the analysis's
/// `not_a_leak_because`, set while a significant rise is under way (`growth_start_ms`) and the
/// verdict is not `leak`. A pending alert has none: its verdict is `leak`, its state `pending`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum NoLeakReason {
    /// The rise has lasted less than `min_growth_secs`.
    TooShort,
    /// The rise does not go on: its newest third is no higher than its middle one, or (a
    /// firing alert that resolved) it has been flat since `growth_stop_ms`.
    LevelledOff,
    /// The rise is shaped like a warm-up, a cache fill or a deploy: it slows down, flattens
    /// out, or is one step between two levels.
    WarmUp,
    /// At the rate's lower bound, the rise is too small to matter: below the share of the
    /// baseline (`min_rise_ratio`, `projection_ratio`) and the limit too far away.
    TooSmall,
    /// The rise is within the floor's noise (`min_rise_sigmas`).
    Noise,
    /// The service's traffic explains the rise (the floor follows the request rate).
    ExplainedByLoad,
    /// Yesterday's floor rose about as much over the same hours (the daily cycle).
    DailyCycle,
    /// A heap with no garbage collection seen yet: its first ramp cannot be told from a leak
    /// until one is seen or `first_collection_secs` has passed (the verdict is `insufficient`).
    NoCollectionYet,
    /// The last evaluation reused a judgement of a moment ago (nothing hidden under the
    /// traffic's swing, a day's floor resting) where the analysis now finds a rise: the next
    /// evaluations judge it, within two buckets.
    NotJudgedYet,
}

#[cfg(test)]
#[path = "reason_tests.rs"]
mod tests;
