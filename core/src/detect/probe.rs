//! A diagnostic for tuning (feature `probe`, off by default; `bench/examples/hold_tally.rs`):
//! each judgement of an evaluation leaves short tags saying which test held a firing alert
//! (the plateau test's knee, flat time, noise, load or rate bound), so that an example can
//! tally what keeps alerts firing after a growth stopped; `gap_tally` reads the load veto's
//! branch and the warm-up test that held a rise not yet firing. Nothing is recorded until
//! [`enable`] is called on the thread; without the feature the tags compile to nothing.

use std::cell::{Cell, RefCell};

thread_local! {
    static ENABLED: Cell<bool> = const { Cell::new(false) };
    static PHASE: Cell<&'static str> = const { Cell::new("raw") };
    static TAGS: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// Starts recording this thread's tags.
pub fn enable() {
    ENABLED.with(|e| e.set(true));
}

/// Whether this thread records tags.
pub fn enabled() -> bool {
    ENABLED.with(Cell::get)
}

/// Names the judgement the following tags come from: `raw` (the usable floor), `unm` (with
/// the load's part out), `lo` (`stop_load_out`'s floor), `yday` (against yesterday's).
pub fn phase(p: &'static str) {
    PHASE.with(|c| c.set(p));
}

/// Records `tag` under the current judgement's name.
pub fn tag(tag: &str) {
    if enabled() {
        let p = PHASE.with(Cell::get);
        TAGS.with(|t| t.borrow_mut().push(format!("{p}:{tag}")));
    }
}

/// The tags recorded since the last call, oldest first.
pub fn take() -> Vec<String> {
    TAGS.with(|t| std::mem::take(&mut *t.borrow_mut()))
}

/// How many tags are recorded (for [`truncate`]).
pub fn len() -> usize {
    TAGS.with(|t| t.borrow().len())
}

/// Drops the tags recorded after the first `n`: a diagnostic's own trial of a test leaves none
/// of that test's tags (`assess`'s `lo2` tag, design section 89).
pub fn truncate(n: usize) {
    TAGS.with(|t| t.borrow_mut().truncate(n));
}
