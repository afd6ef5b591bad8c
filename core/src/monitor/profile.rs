//! The monitor's side of the live-heap profile: feeding it, exporting it as pprof on demand
//! and when the alert fires.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{Monitor, MonitorError, Shared};
use crate::error::InputError;
use crate::profile::{FrameRef, HeapProfile, PprofKind, StackSample};

fn off() -> MonitorError {
    InputError::invalid_option("profile.enabled", "the live-heap profile is off").into()
}

impl Monitor {
    /// The live-heap profile, when `profile.enabled`: bindings whose runtime gives single
    /// sampled allocations (Python's allocator hook) feed it directly.
    pub fn profile(&self) -> Option<&Arc<HeapProfile>> {
        self.shared.profile.as_ref()
    }

    /// Replaces the live-heap profile with a whole in-use profile (Go's `runtime.MemProfile`,
    /// V8's sampling heap profile) taken at `ts_ms` (default: the monitor's clock); see
    /// [`HeapProfile::replace`].
    pub fn profile_replace(
        &self,
        ts_ms: Option<i64>,
        frames: &[FrameRef<'_>],
        samples: &[StackSample<'_>],
        rate: u64,
    ) -> Result<(), MonitorError> {
        if self.is_closed() {
            return Err(MonitorError::Closed);
        }
        let p = self.profile().ok_or_else(off)?;
        let ts = ts_ms.unwrap_or_else(|| self.shared.tracker.now_ms());
        Ok(p.replace(ts, frames, samples, rate)?)
    }

    /// The profile as pprof `profile.proto` bytes: the live heap now, or its growth since the
    /// detector's growth start (since the oldest snapshot when there is none yet). An
    /// `empty_input` error until the profile has been fed.
    pub fn pprof(&self, kind: PprofKind) -> Result<Vec<u8>, MonitorError> {
        let p = self.profile().ok_or_else(off)?;
        let gs = self.analysis()?.growth_start_ms;
        p.pprof(kind, gs).ok_or_else(|| {
            InputError::Empty {
                what: "live-heap profile",
                needed: 1,
                got: 0,
            }
            .into()
        })
    }

    /// Writes [`Monitor::pprof`] to `path`.
    pub fn write_pprof(&self, path: &Path, kind: PprofKind) -> Result<(), MonitorError> {
        let bytes = self.pprof(kind)?;
        std::fs::write(path, bytes).map_err(|source| MonitorError::Write {
            path: path.display().to_string(),
            source,
        })
    }
}

impl Shared {
    /// Writes the pprof files of an alert that fired, when `profile.pprof_dir` is set:
    /// `leaksense-<pid>-<alert ms>-inuse.pb` and `...-growth.pb`. Called after a sample with
    /// the state lock released (encoding takes milliseconds at the stack cap).
    pub(super) fn write_alert_pprof(&self) {
        let (Some(p), Some(dir)) = (&self.profile, &self.config.profile.pprof_dir) else {
            return;
        };
        let Ok(mut st) = self.state() else {
            return;
        };
        let Some(ts) = st.pprof_due.take() else {
            return;
        };
        let gs = st.detector.analysis().growth_start_ms;
        drop(st);
        let mut failed = None;
        for (kind, name) in [(PprofKind::Inuse, "inuse"), (PprofKind::Growth, "growth")] {
            let Some(bytes) = p.pprof(kind, gs) else {
                continue;
            };
            let path: PathBuf = [
                dir.as_str(),
                &format!("leaksense-{}-{ts}-{name}.pb", std::process::id()),
            ]
            .iter()
            .collect();
            if let Err(e) = std::fs::write(&path, bytes) {
                failed = Some(format!(
                    "the pprof file at the alert could not be written: {}: {e}",
                    path.display()
                ));
            }
        }
        if let Ok(mut st) = self.state() {
            st.pprof_error = failed;
        }
    }
}
