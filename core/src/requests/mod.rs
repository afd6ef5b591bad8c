//! Per-request memory tracking and leak attribution to routes.
//!
//! The hot path ([`RequestTracker::begin`] / [`RequestTracker::end`]) records each request's
//! per-measure deltas on its route and counts it in a time slot. When the detector reports a
//! growth start, [`attribute`] explains the growth of the post-GC floor by route: with the
//! article's two rules (comparing request rates rather than raw counts; see `attribute.rs`),
//! and with a non-negative least-squares model that gives the bytes retained per request for
//! each route with a confidence interval.

mod attribute;
mod design;
mod fit;
mod intern;
mod model;
mod nnls;
mod stats;
mod tracker;

#[cfg(test)]
pub(crate) use attribute::fixtures::synthetic_for_tests;
pub use attribute::{
    ArticleSuspect, Attribution, AttributionConfig, BACKGROUND, ModelFit, RouteEstimate, Traffic,
    TransientEstimate, attribute,
};
pub use intern::{MAX_ROUTE_LEN, OTHER_ROUTE, UNMATCHED_ROUTE};
pub use stats::{HIST_BUCKETS, MeasureSummary, bucket_of, bucket_upper};
#[cfg(feature = "collect")]
pub(crate) use tracker::thread_ids_guard;
pub use tracker::{
    MAX_MEASURES, MeasureSource, RSS_MEASURE, RequestOutcome, RequestToken, RequestTracker,
    RouteSnapshot, SlotCounts, TrackerConfig, TrackerSnapshot,
};
