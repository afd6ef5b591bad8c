//! The alert state machine, with Prometheus's pending/firing semantics: a condition that holds
//! turns an inactive alert pending, and firing once it has held for the hold time; a condition
//! that fails turns it inactive at once (from firing, the "resolved" transition).

use std::collections::VecDeque;

/// Prometheus alert states.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum AlertState {
    /// The condition does not hold.
    #[default]
    Inactive,
    /// The condition holds, for less than `for_secs` so far.
    Pending,
    /// The condition has held for `for_secs`.
    Firing,
}

/// One alert state change. `firing -> inactive` is the "resolved" transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AlertEvent {
    /// Timestamp (unix ms) of the sample that caused the change.
    pub ts_ms: i64,
    /// State before.
    pub from: AlertState,
    /// State after.
    pub to: AlertState,
}

/// The alert's state and its newest changes (bounded).
#[derive(Debug, Clone)]
pub(super) struct Alert {
    state: AlertState,
    active_since_ms: i64,
    events: VecDeque<AlertEvent>,
    max_events: usize,
    /// The last pending spell that broke off without firing: its start and end.
    broke: (i64, i64),
}

impl Alert {
    /// An inactive alert that keeps at most `max_events` changes.
    pub(super) fn new(max_events: usize) -> Self {
        Alert {
            state: AlertState::Inactive,
            active_since_ms: 0,
            events: VecDeque::with_capacity(max_events),
            max_events,
            broke: (0, i64::MIN),
        }
    }

    /// The state now.
    pub(super) fn state(&self) -> AlertState {
        self.state
    }

    /// When the alert last turned active (pending), for as long as it stays pending or firing.
    pub(super) fn active_since_ms(&self) -> i64 {
        self.active_since_ms
    }

    /// The newest changes, oldest first.
    pub(super) fn events(&self) -> impl Iterator<Item = AlertEvent> + '_ {
        self.events.iter().copied()
    }

    /// One evaluation at `ts_ms`: whether the condition holds, and how long it must hold
    /// before pending turns to firing.
    #[cfg(test)]
    pub(super) fn step(&mut self, ts_ms: i64, cond: bool, for_ms: i64) -> Option<AlertEvent> {
        self.step_with_grace(ts_ms, cond, for_ms, 0)
    }

    /// [`Alert::step`], where an alert that turns pending at most `grace_ms` after a pending
    /// spell broke off is credited that spell's time: its hold counts from that much earlier
    /// (`urgent_pending_grace_secs`; 0 is `step`).
    pub(super) fn step_with_grace(
        &mut self,
        ts_ms: i64,
        cond: bool,
        for_ms: i64,
        grace_ms: i64,
    ) -> Option<AlertEvent> {
        let next = match (self.state, cond) {
            (_, false) => AlertState::Inactive,
            (AlertState::Inactive, true) if for_ms == 0 => AlertState::Firing,
            (AlertState::Inactive, true) => AlertState::Pending,
            (AlertState::Pending, true) if ts_ms.saturating_sub(self.active_since_ms) >= for_ms => {
                AlertState::Firing
            }
            (s, true) => s,
        };
        if self.state == AlertState::Inactive && next != AlertState::Inactive {
            self.active_since_ms = ts_ms;
            if grace_ms > 0 && ts_ms.saturating_sub(self.broke.1) <= grace_ms {
                self.active_since_ms = ts_ms.saturating_sub(self.broke.1 - self.broke.0);
            }
        }
        if self.state == AlertState::Pending && next == AlertState::Inactive {
            self.broke = (self.active_since_ms, ts_ms);
        }
        self.transition(ts_ms, next)
    }

    /// Moves to `to` (a restart resolves at once), recording the change.
    pub(super) fn transition(&mut self, ts_ms: i64, to: AlertState) -> Option<AlertEvent> {
        if self.state == to {
            return None;
        }
        let e = AlertEvent {
            ts_ms,
            from: self.state,
            to,
        };
        self.state = to;
        if self.events.len() == self.max_events {
            self.events.pop_front();
        }
        self.events.push_back(e);
        Some(e)
    }
}

/// The hold in ms: `for_secs` shortened by how many times over the practical bar the evidence
/// is (`strength`), down to `min_for_secs` (never longer than `for_secs`).
pub(super) fn hold_ms(for_secs: f64, min_for_secs: f64, strength: f64) -> i64 {
    let min_for = for_secs.min(min_for_secs);
    let for_secs = (for_secs / strength.max(1.0)).max(min_for);
    (for_secs * 1000.0) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(a: &Alert) -> Vec<(AlertState, AlertState)> {
        a.events().map(|e| (e.from, e.to)).collect()
    }

    #[test]
    fn pending_turns_firing_after_the_hold_and_resolves_at_once() {
        use AlertState::*;
        let mut a = Alert::new(8);
        assert_eq!(a.step(0, true, 1000).map(|e| e.to), Some(Pending));
        assert_eq!(a.step(999, true, 1000), None);
        assert_eq!(a.step(1000, true, 1000).map(|e| e.to), Some(Firing));
        assert_eq!(a.step(5000, true, 1000), None);
        assert_eq!(a.step(6000, false, 1000).map(|e| e.to), Some(Inactive));
        // A pending alert whose condition fails starts over.
        a.step(7000, true, 1000);
        a.step(7500, false, 1000);
        a.step(8000, true, 1000);
        assert_eq!(a.step(8500, true, 1000), None);
        assert_eq!(a.state(), Pending);
        assert_eq!(
            kinds(&a)[..3],
            [(Inactive, Pending), (Pending, Firing), (Firing, Inactive)]
        );
    }

    #[test]
    fn a_pending_spell_that_broke_off_within_the_grace_is_credited() {
        use AlertState::*;
        let mut a = Alert::new(16);
        a.step_with_grace(0, true, 1000, 300);
        a.step_with_grace(600, false, 1000, 300);
        // Pending again 300 ms after the break: 600 ms already held, fires 400 ms later.
        assert_eq!(
            a.step_with_grace(900, true, 1000, 300).map(|e| e.to),
            Some(Pending)
        );
        assert_eq!(a.active_since_ms(), 300);
        assert_eq!(
            a.step_with_grace(1300, true, 1000, 300).map(|e| e.to),
            Some(Firing)
        );
        // Without a grace, or after a longer break, the hold starts over.
        let mut b = Alert::new(16);
        b.step_with_grace(0, true, 1000, 300);
        b.step_with_grace(600, false, 1000, 300);
        b.step_with_grace(1000, true, 1000, 300);
        assert_eq!(b.active_since_ms(), 1000);
        assert_eq!(b.step_with_grace(1300, true, 1000, 300), None);
        let mut c = Alert::new(16);
        c.step(0, true, 1000);
        c.step(600, false, 1000);
        c.step(900, true, 1000);
        assert_eq!(c.active_since_ms(), 900);
        assert_eq!(kinds(&c).len(), 3);
        assert_eq!(c.state(), Pending);
    }

    #[test]
    fn a_zero_hold_fires_at_once_and_events_are_bounded() {
        let mut a = Alert::new(2);
        for i in 0..10 {
            a.step(i * 10, i % 2 == 0, 0);
        }
        assert_eq!(a.events().count(), 2);
        assert!(a.events().all(|e| e.to != AlertState::Pending));
        assert_eq!(a.transition(100, AlertState::Inactive), None);
    }

    #[test]
    fn the_hold_shortens_with_strength_down_to_min_for() {
        assert_eq!(hold_ms(1800.0, 900.0, 0.5), 1_800_000);
        assert_eq!(hold_ms(1800.0, 900.0, 1.5), 1_200_000);
        assert_eq!(hold_ms(1800.0, 900.0, 10.0), 900_000);
        // min_for above for: plain `for`.
        assert_eq!(hold_ms(600.0, 900.0, 10.0), 600_000);
    }
}
