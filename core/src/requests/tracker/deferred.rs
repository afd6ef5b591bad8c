//! Requests whose route is known only when they end. WSGI and ASGI middleware wrap the
//! framework, which picks the route (Flask's `url_rule`, Starlette's `scope["route"]`) while
//! the request runs; the middleware must read the start measures before that.

use super::{RequestOutcome, RequestToken, RequestTracker};
use crate::error::InputError;

/// Route id of a token from [`RequestTracker::begin_deferred`]; never a real route id.
const DEFERRED: u32 = u32::MAX;

impl RequestTracker {
    /// Starts tracking a request whose route is not known yet; end it with
    /// [`RequestTracker::end_on`]. No route is interned until then.
    pub fn begin_deferred(&self, start: &[f64]) -> Result<RequestToken, InputError> {
        Ok(RequestToken {
            tracker: self.id,
            route: DEFERRED,
            start: self.measures_in("start", start)?,
            rss_start: self.rss_now(),
        })
    }

    /// Ends a request on `route` (the token's own route is replaced). Works for tokens from
    /// `begin` and `begin_deferred`.
    pub fn end_on(
        &self,
        token: RequestToken,
        route: &str,
        end: &[f64],
    ) -> Result<RequestOutcome, InputError> {
        self.end_inner(self.reroute(token, route)?, end, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::requests::TrackerConfig;

    #[test]
    fn a_deferred_request_is_counted_on_the_route_given_at_its_end() {
        let t = RequestTracker::new(TrackerConfig::new(["blocks"])).unwrap();
        let token = t.begin_deferred(&[10.0]).unwrap();
        let out = t.end_on(token, "/orders", &[15.0]).unwrap();
        assert_eq!(out.deltas(), [5.0]);
        let snap = t.snapshot();
        assert_eq!(snap.routes.len(), 1);
        assert_eq!(
            (snap.routes[0].route.as_str(), snap.routes[0].count),
            ("/orders", 1)
        );
        // A deferred token cannot be ended with plain `end`: it has no route yet.
        let token = t.begin_deferred(&[0.0]).unwrap();
        assert!(t.end(token, &[1.0]).is_err());
    }

    #[test]
    fn deferred_requests_reject_bad_measures_and_foreign_tokens() {
        let t = RequestTracker::new(TrackerConfig::new(["blocks"])).unwrap();
        let other = RequestTracker::new(TrackerConfig::new(["blocks"])).unwrap();
        assert!(t.begin_deferred(&[]).is_err());
        assert!(t.begin_deferred(&[f64::NAN]).is_err());
        let token = other.begin_deferred(&[0.0]).unwrap();
        assert!(t.end_on(token, "/a", &[1.0]).is_err());
        let token = t.begin_deferred(&[0.0]).unwrap();
        assert!(t.end_on(token, "/a", &[f64::INFINITY]).is_err());
    }
}
